// What the engine knows about one node: its load right now, its measured speed (throughput and
// response time, moving averages fed by every fetch and probe), how far its chunks ran over
// what was predicted, and its back-off state. A small plain object so a caller (the service
// worker, the CLI) can keep the table across downloads and persist it (exportHistory).
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
  /** what the node delivers while it has requests going: ciphertext bytes per ms, moving average; 0 while unknown */
  rate: number;
  /** rate samples from real transfers so far; a probe's provisional rate is replaced by the first */
  rateSamples: number;
  /** ms from sending a request to its response headers, moving average; 0 while unknown */
  latency: number;
  /** how far response times stray from `latency`, moving average of the deviation (as TCP's RTTVAR) */
  latencyDev: number;
  /** recent actual / predicted durations of completed requests, newest last: the node's own lateness */
  ratios: number[];
  /** engine clock of the last measurement; 0: never measured */
  updatedAt: number;
}

export type NodeStatsTable = Map<string, NodeStats>;

const RATE_WEIGHT = 0.3; // weight of the newest sample in the moving averages
const LATENCY_WEIGHT = 0.3;
const DEV_WEIGHT = 0.25;
export const MAX_RATIOS = 32;

export function newNodeStats(id: string): NodeStats {
  return {
    id, inFlight: 0, requests: 0, successes: 0, failures: 0, consecutiveFailures: 0,
    backoffUntil: 0, lastFailureAt: -Infinity, rate: 0, rateSamples: 0, latency: 0, latencyDev: 0, ratios: [], updatedAt: 0,
  };
}

export function statsFor(table: NodeStatsTable, id: string): NodeStats {
  let s = table.get(id);
  if (!s) table.set(id, (s = newNodeStats(id)));
  // Tables persisted by an older engine lack the newer fields.
  s.latency ??= 0;
  s.latencyDev ??= 0;
  s.rateSamples ??= s.rate > 0 ? 1 : 0;
  s.ratios ??= [];
  s.updatedAt ??= 0;
  return s;
}

export const isBackedOff = (s: NodeStats, now: number): boolean => s.backoffUntil > now;

export function noteStart(s: NodeStats): void {
  s.inFlight++;
  s.requests++;
}

export function noteSuccess(s: NodeStats): void {
  s.inFlight = Math.max(0, s.inFlight - 1);
  s.successes++;
  s.consecutiveFailures = 0;
  s.backoffUntil = 0;
}

/**
 * A throughput sample (bytes per ms) measured while the node was busy. A provisional one (a
 * small probe) only stands until the first real transfer is measured.
 */
export function noteRate(s: NodeStats, sample: number, now: number, provisional = false): void {
  if (!(sample > 0) || !Number.isFinite(sample)) return;
  if (provisional) {
    if (s.rateSamples === 0) s.rate = sample;
  } else {
    s.rate = s.rateSamples === 0 ? sample : s.rate * (1 - RATE_WEIGHT) + sample * RATE_WEIGHT;
    s.rateSamples++;
  }
  s.updatedAt = now;
}

/** A response-time sample (ms to headers). */
export function noteLatency(s: NodeStats, ms: number, now: number): void {
  if (!(ms >= 0) || !Number.isFinite(ms)) return;
  const sample = Math.max(0.5, ms);
  if (s.latency === 0) {
    s.latency = sample;
    s.latencyDev = sample / 2;
  } else {
    s.latencyDev = s.latencyDev * (1 - DEV_WEIGHT) + Math.abs(sample - s.latency) * DEV_WEIGHT;
    s.latency = s.latency * (1 - LATENCY_WEIGHT) + sample * LATENCY_WEIGHT;
  }
  s.updatedAt = now;
}

/** How long a completed request took against what was predicted when it was sent. */
export function noteRatio(s: NodeStats, ratio: number): void {
  if (!(ratio > 0) || !Number.isFinite(ratio)) return;
  s.ratios.push(ratio);
  if (s.ratios.length > MAX_RATIOS) s.ratios.splice(0, s.ratios.length - MAX_RATIOS);
}

/** The 95th percentile of the node's lateness ratios, or null with too little history. */
export function ratioP95(s: NodeStats, minSamples = 8): number | null {
  if (s.ratios.length < minSamples) return null;
  const sorted = [...s.ratios].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.95) - 1)];
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

/** What is worth keeping between sessions: measurements and back-off, not the live load. */
export interface NodeHistoryEntry {
  rate: number;
  rateSamples: number;
  latency: number;
  latencyDev: number;
  ratios: number[];
  successes: number;
  failures: number;
  consecutiveFailures: number;
  backoffUntil: number;
  updatedAt: number;
}

export function exportHistory(table: NodeStatsTable): Record<string, NodeHistoryEntry> {
  const out: Record<string, NodeHistoryEntry> = {};
  for (const s of table.values()) {
    if (s.updatedAt === 0 && s.failures === 0) continue;
    out[s.id] = {
      rate: s.rate, rateSamples: s.rateSamples, latency: s.latency, latencyDev: s.latencyDev, ratios: s.ratios.slice(-MAX_RATIOS), successes: s.successes, failures: s.failures,
      consecutiveFailures: s.consecutiveFailures, backoffUntil: s.backoffUntil, updatedAt: s.updatedAt,
    };
  }
  return out;
}

const finite = (v: unknown, min = 0): number => (typeof v === 'number' && Number.isFinite(v) && v >= min ? v : min);

/**
 * Seeds a table from saved history. Entries are untrusted input (a file, IndexedDB): every
 * field is checked, and entries older than `maxAgeMs` at `now` are ignored.
 */
export function importHistory(table: NodeStatsTable, saved: unknown, now: number, maxAgeMs = 7 * 24 * 3600_000): void {
  if (!saved || typeof saved !== 'object') return;
  for (const [id, raw] of Object.entries(saved as Record<string, unknown>)) {
    if (!raw || typeof raw !== 'object' || id.length > 64) continue;
    const e = raw as Partial<Record<keyof NodeHistoryEntry, unknown>>;
    const updatedAt = finite(e.updatedAt);
    if (updatedAt === 0 || now - updatedAt > maxAgeMs) continue;
    const s = statsFor(table, id);
    s.rate = finite(e.rate);
    s.rateSamples = s.rate > 0 ? Math.max(1, Math.floor(finite(e.rateSamples))) : 0;
    s.latency = finite(e.latency);
    s.latencyDev = finite(e.latencyDev);
    s.ratios = Array.isArray(e.ratios) ? e.ratios.filter((r): r is number => typeof r === 'number' && r > 0 && Number.isFinite(r)).slice(-MAX_RATIOS) : [];
    s.successes = Math.floor(finite(e.successes));
    s.failures = Math.floor(finite(e.failures));
    s.consecutiveFailures = Math.floor(finite(e.consecutiveFailures));
    s.backoffUntil = finite(e.backoffUntil);
    s.updatedAt = updatedAt;
  }
}
