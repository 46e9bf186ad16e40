// How the sweep moves a node between states from what it observed: its health check, how long
// it has been down, and whether the work it is part of is done. Pure, so that the sweep, its
// tests and the simulation agree on every rule.
import type { NodeState } from './node-state.ts';

export interface NodeView {
  state: NodeState;
  stateSince: number;
  prior: NodeState | null;
  /** failed health checks in a row, this one included */
  failures: number;
  /** already treated as lost (its grace period ended before) */
  lostAt: number | null;
  /** of the standby pool: drained, it goes back to standby rather than retiring */
  mirror?: boolean;
}

export interface Observation {
  now: number;
  /** this sweep's health check: null when it answered, else why not */
  error: string | null;
  /** a joining node has received its share (every content reconciled since it joined, no copies owed to it) */
  shareReceived: boolean;
  /** a draining node holds no copy any more and nothing is owed from it */
  empty: boolean;
}

export interface Rules { downAfterFailures: number; graceMs: number }

export type Change =
  | { kind: 'state'; to: NodeState; reason: string; prior?: NodeState | null; recovered?: boolean }
  | { kind: 'lost'; reason: string };

export function nextChange(n: NodeView, o: Observation, r: Rules): Change | null {
  // A standby mirror is woken or put back by demand (protocol/demand/), not by its health.
  if (n.state === 'retired' || n.state === 'standby') return null;
  if (n.state === 'down') {
    if (o.error === null) {
      // Back: it returns to what it was (a drain goes on), its old copies checked before they serve.
      const to: NodeState = n.prior === 'draining' ? 'draining' : 'joining';
      return { kind: 'state', to, reason: 'answers again: its copies are checked before they are served', prior: null, recovered: true };
    }
    if (n.lostAt === null && o.now - n.stateSince >= r.graceMs) {
      return { kind: 'lost', reason: `down for ${Math.round((o.now - n.stateSince) / 1000)} s, past its grace period: its copies count as lost` };
    }
    return null;
  }
  if (o.error !== null) {
    if (n.failures < r.downAfterFailures) return null;
    return { kind: 'state', to: 'down', reason: `failed ${n.failures} health checks in a row: ${o.error}`, prior: n.state };
  }
  if (n.state === 'joining' && o.shareReceived) return { kind: 'state', to: 'active', reason: 'received its share' };
  if (n.state === 'draining' && o.empty) {
    return n.mirror
      ? { kind: 'state', to: 'standby', reason: 'emptied: back in the standby pool' }
      : { kind: 'state', to: 'retired', reason: 'drained: every copy it held is elsewhere' };
  }
  return null;
}
