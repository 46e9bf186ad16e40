// The per-node gate of copies: a bounded number at once, bytes through a token bucket, leases
// that expire when a manager never returns them.
import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { decide, gateOf, LEASE_MS, type GateState } from '../../edge/lifecycle/node-gate.ts';

const limits = { slots: 2, rate: 1000 };
const empty = (at = 0): GateState => ({ tokens: limits.rate, at, leases: {} });

describe('a node gate', () => {
  it('lets at most `slots` copies run at once, and says when to try again', () => {
    let s = empty();
    for (const lease of ['a', 'b']) {
      const r = decide(s, limits, 10, 0, lease);
      expect(r.answer.ok).toBe(true);
      s = r.state;
    }
    const third = decide(s, limits, 10, 1, 'c');
    expect(third.answer).toMatchObject({ ok: false });
    expect((third.answer as { retryInMs: number }).retryInMs).toBeGreaterThan(0);
    // A lease nobody returned expires.
    expect(decide(s, limits, 10, LEASE_MS + 1, 'c').answer.ok).toBe(true);
  });

  it('meters bytes: a second copy waits for the bucket to refill, a copy bigger than the bucket passes when it is full', () => {
    const first = decide(empty(), limits, 800, 0, 'a');
    expect(first.answer.ok).toBe(true);
    const state = { ...first.state, leases: {} };
    const wait = decide(state, limits, 800, 0, 'b');
    expect(wait.answer).toEqual({ ok: false, retryInMs: 600 });
    expect(decide(state, limits, 800, 600, 'b').answer.ok).toBe(true);
    expect(decide(empty(), limits, 50_000, 0, 'big').answer.ok).toBe(true);
  });

  it('keeps its state in its Durable Object: acquire, release, acquire again', async () => {
    const gate = gateOf(env as never, `gate-test-${Date.now()}`);
    const a = await gate.acquire(1);
    expect(a.ok).toBe(true);
    if (a.ok) await gate.release(a.lease);
    expect((await gate.acquire(1)).ok).toBe(true);
  });
});
