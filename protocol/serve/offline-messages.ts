// The messages between a page and its service worker about offline copies: requests (each with
// a MessagePort for the answer) and the progress broadcast while an item is being saved.
import type { MediaIndex } from '../media/media-index.ts';
import type { Chunking } from '../split.ts';

export const OFFLINE_CHANNEL = 'bunsan-offline';

export type OfflineRequest =
  | { type: 'save'; id: string; grant?: string }
  | { type: 'remove'; id: string }
  | { type: 'list' };

export type OfflineAnswer = { ok: true; value: unknown } | { ok: false; error: string };

export type OfflineProgress =
  | { id: string; savedChunks: number; chunks: number; done: boolean }
  | { id: string; error: string };

/** What the worker lists: sizes and progress, never keys. */
export interface SavedSummary {
  id: string; name: string; type: string; size: number; bytes: number;
  chunks: number; savedChunks: number; complete: boolean; savedAt: number;
  /** the seek index and the chunking, so a saved copy seeks and maps its chunks with the network down (absent in copies saved before) */
  media?: MediaIndex; chunking?: Chunking;
}
