// Where the player's bytes come from: the service worker's URL when it controls the page, or
// the same engine run in the page when it does not. Either way a stream of plaintext from a
// byte offset to the end, so the player is the same code on both paths.
import type { EngineEvent } from '../../../protocol/engine/events.ts';
import type { Manifest } from '../../../protocol/manifest.ts';
import { PlainWindow } from '../../../protocol/serve/plain-window.ts';
import { rangeStream } from '../../../protocol/serve/range-stream.ts';
import { contentSource, cryptoLike, fetchFn, now } from '../portal.ts';
import type { ProxyMode } from '../sw-connect.ts';
import { StreamReader } from './stream-reader.ts';
import { windowedStream } from './windowed-fetch.ts';

export interface ByteSource {
  mode: ProxyMode;
  /** plaintext from `start` to `end` (inclusive; default the last byte) */
  open(start: number, signal: AbortSignal, end?: number): Promise<ReadableStream<Uint8Array>>;
}

/** A small range read whole, e.g. a media index. */
export async function readRange(src: ByteSource, start: number, end: number, signal: AbortSignal): Promise<Uint8Array> {
  const bytes = await new StreamReader(await src.open(start, signal, end)).take(Infinity);
  if (bytes.length !== end - start + 1) throw new Error(`short read of ${start}-${end}`);
  return bytes;
}

/** `url` is the content URL the worker answers (with the viewer's ?grant= for a private content). */
export function serviceWorkerSource(url: string, size: number): ByteSource {
  return {
    mode: 'service-worker',
    async open(start, signal, end) {
      return windowedStream(url, start, end ?? size - 1, signal);
    },
  };
}

/** The in-page engine keeps its own, smaller window: the page also holds the media buffer. */
const pageWindow = new PlainWindow(24 * 1024 * 1024);
const pageStats = new Map();

export function inPageSource(m: Manifest, onEvent: (e: EngineEvent) => void): ByteSource {
  return {
    mode: 'in-page',
    async open(start, signal, end) {
      const publicKey = await contentSource.publicKey();
      return rangeStream({
        manifest: m, publicKey, range: { start, end: end ?? m.size - 1 }, cache: pageWindow, crypto: cryptoLike,
        fetch: fetchFn, now, stats: pageStats, signal, onEvent,
      });
    },
  };
}
