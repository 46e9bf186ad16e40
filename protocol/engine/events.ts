// What the engine reports while it works: the CLI prints progress from these, the service worker
// feeds them into its node history, tests assert on them. Plain objects, tagged by `type`.
import type { ErrorCode } from '../errors.ts';

export type EngineEvent =
  /** the plan, once the stamps are verified and the key derived */
  | { type: 'start'; first: number; last: number; bytes: number }
  /** a request for one chunk went out to one node */
  | { type: 'chunk-request'; index: number; node: string; attempt: number }
  /** a chunk arrived and passed every check; bytes are ciphertext bytes on the wire */
  | { type: 'chunk-done'; index: number; node: string; bytes: number; ms: number }
  /** one node failed one chunk; the engine tries another replica */
  | { type: 'chunk-failed'; index: number; node: string; code: ErrorCode; message: string }
  /** a node is left alone until `until` (engine clock, ms) */
  | { type: 'node-backoff'; node: string; until: number; failures: number }
  /** every replica of a chunk failed as often as the policy allows */
  | { type: 'chunk-unavailable'; index: number; tried: string[] }
  /** a chunk was handed to the consumer and left the engine's buffer */
  | { type: 'chunk-delivered'; index: number; bytes: number }
  /** the last byte was handed over */
  | { type: 'done'; bytes: number; ms: number };

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
