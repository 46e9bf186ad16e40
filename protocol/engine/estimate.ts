// The engine's model of a node: how long a chunk sent to it now would take, given what it is
// already doing; how many requests it needs in flight to stay busy; and how much the device
// lets us hold. Pure functions of the measured stats, so scheduling and hedging share one model.
import type { NodeStats } from './node-stats.ts';

export interface Priors {
  /** bytes per ms assumed for a node never measured */
  rate: number;
  /** ms to headers assumed for a node never measured */
  latency: number;
}

/** With nothing measured at all: a modest link (1 MB/s, 100 ms) that any real node beats. */
export const DEFAULT_PRIORS: Priors = { rate: 1000, latency: 100 };

/**
 * Priors for unmeasured nodes from the measured ones: the best rate measured on real transfers
 * (optimistic, so a new node is tried early rather than starved by one measured node; a slow one
 * is found out by its first bytes; a probe's rate is only a ranking hint, see noteRate) and the
 * median response time.
 */
export function priorsFrom(stats: Iterable<NodeStats>): Priors {
  let rate = 0;
  const lat: number[] = [];
  for (const s of stats) {
    if (s.rateSamples > 0) rate = Math.max(rate, s.rate);
    if (s.latency > 0) lat.push(s.latency);
  }
  lat.sort((a, b) => a - b);
  return { rate: rate || DEFAULT_PRIORS.rate, latency: lat.length ? lat[lat.length >> 1] : DEFAULT_PRIORS.latency };
}

export const rateOf = (s: NodeStats, p: Priors) => (s.rate > 0 ? s.rate : p.rate);
export const latencyOf = (s: NodeStats, p: Priors) => (s.latency > 0 ? s.latency : p.latency);

/**
 * Predicted ms until `bytes` more from this node have arrived when `queueBytes` are still due
 * from it: the response time overlaps with the queue draining (requests are pipelined), so the
 * later of "answer, then my bytes" and "everything queued, then my bytes".
 */
export function expectedMs(s: NodeStats, bytes: number, queueBytes: number, p: Priors): number {
  const rate = rateOf(s, p);
  return Math.max(latencyOf(s, p) + bytes / rate, (queueBytes + bytes) / rate);
}

/**
 * Requests one node may have at once. A node whose response time is not known yet gets one
 * (slow start): requests on one link share it, so a second one would halve the speed of the
 * first, which is often the chunk the reader waits for. After that, up to the device's maximum;
 * what really paces a node's requests is what it still owes (admitBytes).
 */
export function nodeLimit(s: NodeStats, max: number): number {
  return s.latency === 0 ? 1 : max;
}

/**
 * Slack for the jitter a response time does not show: the node's own pauses in the middle of a
 * body, timers, the scheduler's turn. Time, so that it scales with the link.
 */
export const ADMIT_SLACK_MS = 50;
/** Never less than this in flight ahead of the end: a few network round trips' worth on any link. */
export const ADMIT_MIN_BYTES = 64 * 1024;

/**
 * A node takes its next request once the bytes it still owes would drain within one response
 * time (its bandwidth-delay product, with the response time's usual spread, as TCP sizes its
 * timers, and some slack): the next answer then starts arriving just before the last one ends.
 * The link never idles, and chunks are not slowed down by sharing it with many others.
 */
export function admitBytes(s: NodeStats, p: Priors = DEFAULT_PRIORS): number {
  // Only rates measured on real transfers (the priors are made of those): a small probe flatters
  // a link (it fits in whatever burst the path allows), and too many requests early would slow
  // the first chunks down.
  const rate = s.rateSamples > 0 ? s.rate : p.rate;
  return Math.max(ADMIT_MIN_BYTES, (s.latency + 2 * s.latencyDev + ADMIT_SLACK_MS) * rate);
}

/** What the caller says about the device: fewer requests and a smaller window on a weak phone. */
export interface DeviceHint {
  /** GiB of memory, as navigator.deviceMemory reports it (0.25-8) or os.totalmem() / 2^30 */
  memoryGiB?: number;
  /** the user asked to save data (navigator.connection.saveData): no hedging beyond the head */
  saveData?: boolean;
}

export interface DeviceBudget {
  /** bytes the window of chunks ahead (in flight plus buffered) may hold */
  windowBytes: number;
  concurrencyMax: number;
  perNodeMax: number;
}

export function deviceBudget(hint: DeviceHint = {}): DeviceBudget {
  const m = hint.memoryGiB;
  if (m !== undefined && m <= 1) return { windowBytes: 8 << 20, concurrencyMax: 6, perNodeMax: 3 };
  if (m !== undefined && m <= 2) return { windowBytes: 16 << 20, concurrencyMax: 12, perNodeMax: 4 };
  if (m !== undefined && m >= 8) return { windowBytes: 64 << 20, concurrencyMax: 32, perNodeMax: 8 };
  return { windowBytes: 32 << 20, concurrencyMax: 24, perNodeMax: 6 };
}

/** Seconds of the measured total throughput the window of chunks ahead should cover. */
export const WINDOW_SECONDS = 2;

/**
 * Chunks to keep ahead of the reader: about two seconds at the measured total throughput, so one
 * late chunk at the head does not stop the others, and a slow replica can be given chunks far
 * enough ahead to deliver them in time (it finishes one while the fast ones finish many); at
 * least four per node and at least 16 as before; never more than the device's budget.
 */
export function adaptiveWindow(nodes: number, totalRate: number, chunkBytes: number, budget: DeviceBudget): number {
  const cap = Math.max(2, Math.floor(budget.windowBytes / Math.max(1, chunkBytes)));
  const want = Math.max(16, 4 * nodes, Math.ceil((totalRate * 1000 * WINDOW_SECONDS) / Math.max(1, chunkBytes)));
  return Math.min(cap, want);
}
