// What the engine knows about one node: its load right now, its observed throughput and its
// back-off state. A small plain object so a caller (the service worker) can keep the table
// across downloads and persist it.
import { backoffDelay, type RetryPolicy } from './retry-policy.ts';

export interface NodeStats {
  id: string;
  inFlight: number;
  requests: number;
  successes: number;
  failures: number;
  /** failures since the last success; drives the back-off length */
  consecutiveFailures: number;
  /** engine clock (ms) before which the node is not asked; 0 when healthy */
  backoffUntil: number;
  /** when the current run of failures was last escalated */
  lastFailureAt: number;
  /** exponentially weighted ciphertext bytes per ms; 0 while unknown */
  rate: number;
}

export type NodeStatsTable = Map<string, NodeStats>;

const RATE_WEIGHT = 0.3; // weight of the newest sample in the moving average

export function newNodeStats(id: string): NodeStats {
  return {
    id, inFlight: 0, requests: 0, successes: 0, failures: 0, consecutiveFailures: 0,
    backoffUntil: 0, lastFailureAt: -Infinity, rate: 0,
  };
}

export function statsFor(table: NodeStatsTable, id: string): NodeStats {
  let s = table.get(id);
  if (!s) table.set(id, (s = newNodeStats(id)));
  return s;
}

export const isBackedOff = (s: NodeStats, now: number): boolean => s.backoffUntil > now;

export function noteStart(s: NodeStats): void {
  s.inFlight++;
  s.requests++;
}

export function noteSuccess(s: NodeStats, bytes: number, ms: number): void {
  s.inFlight = Math.max(0, s.inFlight - 1);
  s.successes++;
  s.consecutiveFailures = 0;
  s.backoffUntil = 0;
  const sample = bytes / Math.max(1, ms);
  s.rate = s.rate === 0 ? sample : s.rate * (1 - RATE_WEIGHT) + sample * RATE_WEIGHT;
}

/** A request that was aborted by us says nothing about the node. */
export function noteAbandoned(s: NodeStats): void {
  s.inFlight = Math.max(0, s.inFlight - 1);
}

/**
 * Records a failure and returns the new back-off end, or null when it was not escalated:
 * requests already in flight when the node started failing fail together, and counting each
 * of them would push the back-off to its cap after a single outage.
 */
export function noteFailure(s: NodeStats, now: number, startedAt: number, policy: RetryPolicy): number | null {
  s.inFlight = Math.max(0, s.inFlight - 1);
  s.failures++;
  if (startedAt <= s.lastFailureAt && s.consecutiveFailures > 0) return null;
  s.consecutiveFailures++;
  s.lastFailureAt = now;
  s.backoffUntil = now + backoffDelay(policy, s.consecutiveFailures);
  return s.backoffUntil;
}
