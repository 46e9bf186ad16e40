// Bytes [start, end] of a URL as a run of bounded Range requests, the next one asked for when
// half of the current one has been read. Chromium drains a service worker's streamed answer
// whether or not the page reads it, so one open-ended request would pull the whole content
// through the proxy at once; windows keep what is fetched ahead of the player to about two.
import { fromEnvelope } from '../../../protocol/errors.ts';
import { iteratorStream } from '../../../protocol/serve/iterator-stream.ts';

export const WINDOW_BYTES = 4 * 1024 * 1024;

interface Opened { res: Response; start: number; end: number }

export function windowedStream(url: string, start: number, end: number, signal: AbortSignal, size = WINDOW_BYTES): ReadableStream<Uint8Array> {
  const abort = new AbortController();
  signal.addEventListener('abort', () => abort.abort(signal.reason), { once: true });
  const open = (s: number): Promise<Opened> => {
    const e = Math.min(end, s + size - 1);
    const p = fetch(url, { headers: { range: `bytes=${s}-${e}` }, signal: abort.signal }).then(async (res) => {
      if (res.status !== 206 && !(res.status === 200 && s === 0)) throw fromEnvelope(res.status, await res.json().catch(() => null));
      return { res, start: s, end: e };
    });
    p.catch(() => {}); // a prefetch that fails is reported when it is awaited
    return p;
  };

  async function* chunks(): AsyncGenerator<Uint8Array> {
    let next: Promise<Opened> | null = start <= end ? open(start) : null;
    while (next) {
      const w = await next;
      next = null;
      const want = w.end - w.start + 1;
      const reader = w.res.body!.getReader();
      let got = 0;
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        got += value.length;
        if (!next && got * 2 >= want && w.end < end) next = open(w.end + 1);
        yield got > want ? value.subarray(0, value.length - (got - want)) : value; // a 200 for 0- is the whole file
        if (got >= want) { await reader.cancel().catch(() => {}); break; }
      }
      if (got < want) throw new Error(`range ${w.start}-${w.end} ended after ${got} bytes`);
      if (!next && w.end < end) next = open(w.end + 1);
    }
  }

  const it = chunks();
  return iteratorStream(it, abort);
}
