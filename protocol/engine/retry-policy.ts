// Retry and back-off in one place, with defaults from a function (shaka-player's backoff.js):
// a node that fails is left alone for base·factor^(n-1) ms after its n-th consecutive failure,
// capped; a chunk is tried on each replica once, then at most `retries` more times on each.

export interface RetryPolicy {
  /** back-off after a node's first failure */
  baseMs: number;
  factor: number;
  maxMs: number;
  /** extra attempts per replica of one chunk after the first round over all replicas */
  retries: number;
}

export function defaultRetryPolicy(): RetryPolicy {
  return { baseMs: 500, factor: 2, maxMs: 30_000, retries: 2 };
}

export function backoffDelay(policy: RetryPolicy, consecutiveFailures: number): number {
  if (consecutiveFailures <= 0) return 0;
  return Math.min(policy.maxMs, policy.baseMs * policy.factor ** (consecutiveFailures - 1));
}
