// The sweep's rules for moving a node between states.
import { describe, expect, it } from 'vitest';
import { nextChange, type NodeView, type Observation } from '../../protocol/lifecycle/transitions.ts';

const rules = { downAfterFailures: 2, graceMs: 60_000 };
const node = (over: Partial<NodeView> = {}): NodeView => ({ state: 'active', stateSince: 0, prior: null, failures: 0, lostAt: null, ...over });
const seen = (over: Partial<Observation> = {}): Observation => ({ now: 100_000, error: null, shareReceived: false, empty: false, ...over });

describe('node state changes', () => {
  it('marks a node down only after enough failed checks in a row, keeping what it was', () => {
    expect(nextChange(node({ failures: 1 }), seen({ error: 'timeout' }), rules)).toBeNull();
    expect(nextChange(node({ failures: 2 }), seen({ error: 'timeout' }), rules)).toMatchObject({ kind: 'state', to: 'down', prior: 'active' });
    expect(nextChange(node({ state: 'draining', failures: 3 }), seen({ error: 'refused' }), rules)).toMatchObject({ to: 'down', prior: 'draining' });
  });

  it('treats a down node\'s copies as lost once, after its grace period', () => {
    const down = node({ state: 'down', stateSince: 100_000 - 59_000 });
    expect(nextChange(down, seen({ error: 'x' }), rules)).toBeNull();
    expect(nextChange({ ...down, stateSince: 100_000 - 60_000 }, seen({ error: 'x' }), rules)).toMatchObject({ kind: 'lost' });
    expect(nextChange({ ...down, stateSince: 0, lostAt: 50_000 }, seen({ error: 'x' }), rules)).toBeNull();
  });

  it('brings a node back as joining (its copies checked), or draining if it was draining', () => {
    expect(nextChange(node({ state: 'down' }), seen(), rules)).toMatchObject({ to: 'joining', recovered: true });
    expect(nextChange(node({ state: 'down', prior: 'draining' }), seen(), rules)).toMatchObject({ to: 'draining', recovered: true });
    expect(nextChange(node({ state: 'down', lostAt: 1 }), seen(), rules)).toMatchObject({ to: 'joining', recovered: true });
  });

  it('activates a joining node once it has its share, retires a draining one once it is empty', () => {
    expect(nextChange(node({ state: 'joining' }), seen(), rules)).toBeNull();
    expect(nextChange(node({ state: 'joining' }), seen({ shareReceived: true }), rules)).toMatchObject({ to: 'active' });
    expect(nextChange(node({ state: 'draining' }), seen(), rules)).toBeNull();
    expect(nextChange(node({ state: 'draining' }), seen({ empty: true }), rules)).toMatchObject({ to: 'retired' });
    expect(nextChange(node({ state: 'draining', failures: 2 }), seen({ empty: true, error: 'x' }), rules)).toMatchObject({ to: 'down' });
  });

  it('leaves a retired node and a healthy active one alone', () => {
    expect(nextChange(node({ state: 'retired' }), seen({ error: 'gone' }), rules)).toBeNull();
    expect(nextChange(node(), seen({ shareReceived: true, empty: true }), rules)).toBeNull();
  });
});
