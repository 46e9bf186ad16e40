// Plaintext of a byte range, in order, from the window of decrypted chunks where it can and
// from the shared engine for the runs it cannot. Runs are widened to whole chunks so every
// chunk the engine yields can be kept in the window; the range's own edges are cut here.
import { downloadContent, type EngineOptions } from '../engine/download.ts';
import { spanAt } from '../split.ts';
import { chunkKey, type PlainWindow } from './plain-window.ts';
import { iteratorStream } from './iterator-stream.ts';

export interface RangeOptions extends Omit<EngineOptions, 'range'> {
  /** inclusive plaintext byte range; must lie inside the content */
  range: { start: number; end: number };
  /** decrypted chunks shared across requests; none means every request fetches */
  cache?: PlainWindow;
}

export async function* plaintextRange(o: RangeOptions): AsyncGenerator<Uint8Array, void, undefined> {
  const { manifest: m, range, cache } = o;
  const chunks = m.chunks;
  const first = spanAt(chunks, range.start);
  const last = spanAt(chunks, range.end);
  const key = (i: number) => chunkKey(m.id, m.version, i);
  const cut = (i: number, plain: Uint8Array) => {
    const c = chunks[i];
    const from = i === first ? range.start - c.offset : 0;
    const to = i === last ? range.end - c.offset + 1 : c.length;
    return from === 0 && to === plain.length ? plain : plain.subarray(from, to);
  };
  let i = first;
  while (i <= last) {
    const hit = cache?.get(key(i));
    if (hit) {
      yield cut(i, hit);
      i++;
      continue;
    }
    // The run of chunks the window does not hold goes to the engine in one download.
    let j = i;
    while (j < last && !cache?.has(key(j + 1))) j++;
    const run = { start: chunks[i].offset, end: chunks[j].offset + chunks[j].length - 1 };
    let k = i;
    for await (const plain of downloadContent({ ...o, range: run })) {
      cache?.put(key(k), plain);
      yield cut(k, plain);
      k++;
    }
    i = j + 1;
  }
}

/**
 * The same as a ReadableStream, pulled by its reader so a slow consumer slows the fetching.
 * Cancelling it (the media element went away) aborts the engine at once.
 */
export function rangeStream(o: RangeOptions): ReadableStream<Uint8Array> {
  const abort = new AbortController();
  const outer = o.signal;
  if (outer) {
    if (outer.aborted) abort.abort(outer.reason);
    else outer.addEventListener('abort', () => abort.abort(outer.reason), { once: true });
  }
  const it = plaintextRange({ ...o, signal: abort.signal });
  return iteratorStream(it, abort);
}
