// What the engine reports while it works: the CLI prints progress from these, the service worker
// feeds them into its node history, the benchmark measures with them, tests assert on them.
// Plain objects, tagged by `type`.
import type { ErrorCode } from '../errors.ts';

/** A chunk a node served wrong, for the portal (POST /api/v1/contents/:id/reports). */
export interface ChunkReport {
  index: number;
  hash: string;
  node: string;
  code: 'integrity_failed' | 'stamp_mismatch';
}

/** Totals of one download, in the `done` event. */
export interface DownloadSummary {
  /** plaintext bytes handed to the consumer */
  bytes: number;
  ms: number;
  /** ciphertext bytes received, including what hedging and failures wasted */
  fetchedBytes: number;
  /** chunks asked of a second replica because the first ran late */
  hedges: number;
  /** bytes received by requests that lost a hedge race */
  hedgedBytes: number;
  /** requests that failed (errors, stalls, bad data) */
  failures: number;
  /** chunks reported to the portal as corrupt */
  reports: number;
  /** fresh manifests asked for because a chunk's listed holders all failed it (its copies had moved) */
  refreshes: number;
}

export type EngineEvent =
  /** the plan, once the stamps are verified and the key derived */
  | { type: 'start'; first: number; last: number; bytes: number }
  /** a timed test download from a node (`ok` false: it failed, and the node is backed off) */
  | { type: 'node-probe'; node: string; ok: boolean; bytes: number; ms: number; latency: number }
  /** a request for one chunk went out to one node; `hedge`: a second request for a late chunk */
  | { type: 'chunk-request'; index: number; node: string; attempt: number; hedge?: boolean }
  /**
   * the chunk's request to `from` is late (past what its node's history predicts) or behind
   * (another replica would deliver it in less than half the time it still needs): it is asked
   * of `node` too
   */
  | { type: 'chunk-hedge'; index: number; node: string; from: string; reason: 'late' | 'behind'; elapsed: number; expected: number }
  /** a chunk arrived and passed every check; bytes are ciphertext bytes on the wire */
  | { type: 'chunk-done'; index: number; node: string; bytes: number; ms: number; hedge?: boolean }
  /** the other copy won: this request was aborted after receiving `bytes` */
  | { type: 'chunk-abandoned'; index: number; node: string; bytes: number }
  /** one node failed one chunk; the engine tries another replica */
  | { type: 'chunk-failed'; index: number; node: string; code: ErrorCode; message: string }
  /** a node served a chunk that fails verification: reported through `onReport` */
  | ({ type: 'chunk-report' } & ChunkReport)
  /** a node is left alone until `until` (engine clock, ms) */
  | { type: 'node-backoff'; node: string; until: number; failures: number }
  /** every node listed for chunk `index` failed it: a fresh manifest is asked for (copies move) */
  | { type: 'manifest-refresh'; index: number }
  /** every replica of a chunk failed as often as the policy allows */
  | { type: 'chunk-unavailable'; index: number; tried: string[] }
  /** a chunk was handed to the consumer and left the engine's buffer */
  | { type: 'chunk-delivered'; index: number; bytes: number }
  /** the last byte was handed over */
  | ({ type: 'done' } & DownloadSummary);

export type EventSink = (e: EngineEvent) => void;

/** A listener's failure must never break a download. */
export function safeSink(sink: EventSink | undefined): EventSink {
  if (!sink) return () => {};
  return (e) => {
    try {
      sink(e);
    } catch {
      // ignored on purpose: events are observations, not control flow
    }
  };
}
