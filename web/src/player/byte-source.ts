// Where the player's bytes come from: the service worker's URL when it controls the page, or
// the same engine run in the page when it does not. Either way a stream of plaintext from a
// byte offset to the end, so the player is the same code on both paths.
import type { EngineEvent } from '../../../protocol/engine/events.ts';
import type { Manifest } from '../../../protocol/manifest.ts';
import { freshManifest } from '../../../protocol/serve/content-source.ts';
import { PlainWindow } from '../../../protocol/serve/plain-window.ts';
import { rangeStream } from '../../../protocol/serve/range-stream.ts';
import { contentSource, pageEngine } from '../portal.ts';
import type { ProxyMode } from '../sw-connect.ts';
import { windowedStream } from './windowed-fetch.ts';

export interface ByteSource {
  mode: ProxyMode;
  /** plaintext from `start` to the last byte */
  open(start: number, signal: AbortSignal): Promise<ReadableStream<Uint8Array>>;
}

/** `url` is the content URL the worker answers (with the viewer's ?grant= for a private content). */
export function serviceWorkerSource(url: string, size: number): ByteSource {
  return {
    mode: 'service-worker',
    async open(start, signal) {
      return windowedStream(url, start, size - 1, signal);
    },
  };
}

/** The in-page engine keeps its own, smaller window: the page also holds the media buffer. */
const pageWindow = new PlainWindow(24 * 1024 * 1024);

/** `grant`: the viewer's, for a private content; a fresh manifest is asked with it when copies have moved. */
export function inPageSource(m: Manifest, onEvent: (e: EngineEvent) => void, grant?: string): ByteSource {
  return {
    mode: 'in-page',
    async open(start, signal) {
      const publicKey = await contentSource.publicKey();
      // Node history, settings and reports as the service worker has them (worker/engine-setup.ts).
      const run = await pageEngine().prepare({ manifest: m, publicKey, onEvent, refresh: () => freshManifest(contentSource, m.id, grant) });
      return rangeStream({ ...run.options, range: { start, end: m.size - 1 }, cache: pageWindow, signal });
    },
  };
}
