// Retry, back-off, stall and hedging timings in one place, with defaults from a function
// (shaka-player's backoff.js): a node that fails is left alone for base·factor^(n-1) ms after its
// n-th consecutive failure, capped; a chunk is tried on each replica once, then at most
// `retries` more times on each. A request that receives nothing for `stallMs` has failed. A
// request still running at max(hedgeFloorMs, hedgeFactor × predicted, p95 of the node's own
// lateness × predicted) is late, and the chunk is asked of another replica too.

export interface RetryPolicy {
  /** back-off after a node's first failure */
  baseMs: number;
  factor: number;
  maxMs: number;
  /** extra attempts per replica of one chunk after the first round over all replicas */
  retries: number;
  /** a request that receives no headers and no bytes for this long is abandoned as failed */
  stallMs: number;
  /** a request is never called late before this */
  hedgeFloorMs: number;
  /** late: slower than this many times its prediction */
  hedgeFactor: number;
  /** the node's own p95 lateness counts up to this many times the prediction, no more */
  hedgeMaxRatio: number;
}

export function defaultRetryPolicy(): RetryPolicy {
  return {
    baseMs: 500, factor: 2, maxMs: 30_000, retries: 2,
    stallMs: 2_000, hedgeFloorMs: 250, hedgeFactor: 2, hedgeMaxRatio: 6,
  };
}

export function backoffDelay(policy: RetryPolicy, consecutiveFailures: number): number {
  if (consecutiveFailures <= 0) return 0;
  return Math.min(policy.maxMs, policy.baseMs * policy.factor ** (consecutiveFailures - 1));
}
