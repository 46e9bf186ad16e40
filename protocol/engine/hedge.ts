// When a request is late. Each request carries the duration the model predicted when it was
// sent; it is late past max(floor, factor × predicted, the node's own p95 lateness × predicted),
// so a node that is always a little slow is not hedged for being itself, and a small chunk is
// not hedged over timer noise. Once it is past its prediction, its own pace can call it late
// earlier: a request whose bytes come at a tenth of the expected speed need not be waited out.
import { ratioP95, type NodeStats } from './node-stats.ts';
import type { RetryPolicy } from './retry-policy.ts';

export function hedgeDeadline(startedAt: number, expected: number, s: NodeStats, policy: RetryPolicy): number {
  const own = Math.min(policy.hedgeMaxRatio, ratioP95(s) ?? 0);
  return startedAt + Math.max(policy.hedgeFloorMs, Math.max(policy.hedgeFactor, own) * expected);
}

export interface Progress {
  startedAt: number;
  firstByteAt: number | null;
  received: number;
  total: number;
}

/** Below these a pace is noise: a packet or two, a timer tick. */
const MIN_PACE_BYTES = 64 * 1024;
const MIN_PACE_MS = 20;

/** When the request ends at its pace so far; null until there is a pace worth trusting. */
export function projectedEnd(p: Progress, now: number): number | null {
  if (p.firstByteAt === null || p.received < Math.min(p.total / 8, MIN_PACE_BYTES)) return null;
  const ms = now - p.firstByteAt;
  if (ms < MIN_PACE_MS) return null;
  return now + ((p.total - p.received) * ms) / p.received;
}

export interface Timed extends Progress {
  expected: number;
  deadline: number;
}

export function isLate(r: Timed, now: number): boolean {
  if (now >= r.deadline) return true;
  if (now < r.startedAt + r.expected) return false;
  const end = projectedEnd(r, now);
  return end !== null && end > r.deadline;
}
