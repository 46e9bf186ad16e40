// The timed test download of the source document ("measure the candidate servers"): a small
// GET /v1/probe?bytes=N from each node the engine knows nothing recent about. The time to the
// answer is a response-time sample, the body's pace a throughput sample, and a node that does
// not answer is backed off before any chunk is sent to it.
import { BunsanError } from '../errors.ts';
import { NODE_PATHS, PUBLIC_PROBE_BYTES } from '../node-protocol.ts';
import type { EventSink } from './events.ts';
import type { FetchLike } from './fetch-chunk.ts';
import { isBackedOff, noteFailure, noteLatency, noteRate, noteStart, noteSuccess, statsFor, type NodeStatsTable } from './node-stats.ts';
import type { RetryPolicy } from './retry-policy.ts';

export interface ProbeOptions {
  /** bytes asked of each node (default 32 KiB) */
  bytes?: number;
  /** ms to hold the first requests back while probes answer (default 0: probes only inform later choices) */
  waitMs?: number;
  /** nodes measured more recently than this are not probed (default 10 min) */
  maxAgeMs?: number;
}

export const PROBE_DEFAULTS = { bytes: 32 * 1024, waitMs: 0, maxAgeMs: 10 * 60_000 } as const;

export interface ProbeContext {
  nodes: Map<string, string>;
  stats: NodeStatsTable;
  fetch: FetchLike;
  now: () => number;
  signal: AbortSignal;
  policy: RetryPolicy;
  emit: EventSink;
  /** the manifest's download token: sent only with a probe larger than nodes give without one */
  token?: string;
}

/**
 * Sends no header: a browser asks it as a simple request, with no CORS preflight. Up to
 * PUBLIC_PROBE_BYTES it needs no token; a larger one carries the download token as `?t=`.
 */
export const probeUrl = (base: string, bytes: number, token?: string) => `${base.replace(/\/+$/, '')}${NODE_PATHS.probe}?bytes=${bytes}`
  + (bytes > PUBLIC_PROBE_BYTES && token ? `&t=${encodeURIComponent(token)}` : '');

/** Probes every node that needs it, in parallel; resolves when all have answered or failed. */
export async function probeNodes(ctx: ProbeContext, o: ProbeOptions = {}): Promise<void> {
  const bytes = o.bytes ?? PROBE_DEFAULTS.bytes;
  const maxAge = o.maxAgeMs ?? PROBE_DEFAULTS.maxAgeMs;
  const now = ctx.now();
  const due = [...ctx.nodes].filter(([id]) => {
    const s = statsFor(ctx.stats, id);
    return !isBackedOff(s, now) && (s.updatedAt === 0 || now - s.updatedAt > maxAge);
  });
  await Promise.all(due.map(([id, url]) => probeOne(ctx, id, url, bytes)));
}

async function probeOne(ctx: ProbeContext, id: string, url: string, bytes: number): Promise<void> {
  const s = statsFor(ctx.stats, id);
  const t0 = ctx.now();
  noteStart(s);
  let latency = 0;
  try {
    const res = await ctx.fetch(probeUrl(url, bytes, ctx.token), { signal: ctx.signal });
    const t1 = ctx.now();
    latency = t1 - t0;
    if (res.status !== 200) {
      await res.body?.cancel().catch(() => {});
      throw new BunsanError('node_unreachable', `probe answered HTTP ${res.status}`);
    }
    const got = await drain(res, bytes);
    const t2 = ctx.now();
    noteSuccess(s);
    noteLatency(s, latency, t2);
    // A small body says little about bandwidth: it only seeds a node with no measured rate.
    if (got >= 16 * 1024 && t2 > t1) noteRate(s, got / (t2 - t1), t2, true);
    ctx.emit({ type: 'node-probe', node: id, ok: true, bytes: got, ms: t2 - t0, latency });
  } catch (err) {
    if (ctx.signal.aborted) {
      s.inFlight = Math.max(0, s.inFlight - 1);
      return;
    }
    const until = noteFailure(s, ctx.now(), t0, ctx.policy);
    ctx.emit({ type: 'node-probe', node: id, ok: false, bytes: 0, ms: ctx.now() - t0, latency });
    if (until !== null) ctx.emit({ type: 'node-backoff', node: id, until, failures: s.consecutiveFailures });
  }
}

/** Reads the probe body, at most `max` bytes (a node may not make us read more than we asked). */
async function drain(res: Response, max: number): Promise<number> {
  if (!res.body) return 0;
  const reader = res.body.getReader();
  let n = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return n;
    n += value.length;
    if (n > max) {
      await reader.cancel().catch(() => {});
      return max;
    }
  }
}
