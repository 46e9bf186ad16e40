// How a file is cut into chunks. Regular: fixed length. Irregular (the source document's
// "irregular lengths drawn from a random source"): each length between min and max, drawn from
// an AES-CTR keystream under a seed the manager picks with a CSPRNG. The plan is a pure function
// of (size, options), so the uploader, the edge and a resumed upload all cut identically.
//
// A plan is never built whole: a 32 TiB file in 64 KiB chunks has half a billion spans. Any
// chunk's span, and the count, cost the same whatever the size: arithmetic for regular chunks;
// for irregular ones the lengths are drawn per block of `block` chunks whose lengths come in
// pairs summing to min + max, so every block covers the same bytes and chunk i needs only its
// own block's part of the keystream (docs/decisions.md, "Chunk plans").
import { z } from 'zod';
import { exact, fromHex } from './bytes.ts';
import type { CryptoLike } from './crypto-like.ts';
import { BunsanError } from './errors.ts';

export const MIN_CHUNK = 64 * 1024;
export const MAX_CHUNK = 16 * 1024 * 1024;
export const DEFAULT_CHUNK = 1024 * 1024;
/** Chunks per block of an irregular plan: a span costs drawing this many lengths. */
export const IRREGULAR_BLOCK = 256;

const len = z.number().int().min(MIN_CHUNK).max(MAX_CHUNK);
export const Chunking = z.discriminatedUnion('mode', [
  z.object({ mode: z.literal('regular'), size: len }),
  z.object({
    mode: z.literal('irregular'), min: len, max: len, seed: z.string().regex(/^[0-9a-f]{32}$/),
    /** chunks per block; absent on plans made before blocks, whose lengths are one sequence read from the start */
    block: z.number().int().min(2).max(4096).multipleOf(2).optional(),
  }).refine((c) => c.min < c.max, 'min must be below max'),
]);
export type Chunking = z.infer<typeof Chunking>;

export interface ChunkSpan { index: number; offset: number; length: number }

export interface ChunkPlan {
  /** how many chunks cover the size */
  count(): Promise<number>;
  /** chunk `index`'s span, or null when the plan has no such chunk */
  span(index: number): Promise<ChunkSpan | null>;
  /** the spans from `from` to the end, one at a time */
  spans(from?: number): AsyncGenerator<ChunkSpan>;
}

export function chunkPlan(crypto: CryptoLike, size: number, chunking: Chunking): ChunkPlan {
  if (chunking.mode === 'regular') return regularPlan(size, chunking.size);
  const stream = keystream(crypto, chunking.seed);
  return chunking.block ? blockPlan(stream, size, chunking.min, chunking.max, chunking.block) : sequencePlan(stream, size, chunking.min, chunking.max);
}

function regularPlan(size: number, chunk: number): ChunkPlan {
  const count = Math.ceil(size / chunk);
  const span = (i: number): ChunkSpan | null =>
    Number.isSafeInteger(i) && i >= 0 && i < count ? { index: i, offset: i * chunk, length: Math.min(chunk, size - i * chunk) } : null;
  return {
    count: async () => count,
    span: async (i) => span(i),
    async *spans(from = 0) {
      for (let i = Math.max(0, from); i < count; i++) yield span(i)!;
    },
  };
}

type Keystream = (firstBlock: number, words: number) => Promise<DataView>;

/** `words` 32-bit words of the seed's AES-CTR keystream, from 16-byte block `firstBlock` on. */
function keystream(crypto: CryptoLike, seed: string): Keystream {
  const key = crypto.subtle.importKey('raw', exact(fromHex(seed)), 'AES-CTR', false, ['encrypt']);
  return async (firstBlock, words) => {
    const counter = new Uint8Array(16);
    const view = new DataView(counter.buffer);
    view.setUint32(8, Math.floor(firstBlock / 2 ** 32));
    view.setUint32(12, firstBlock >>> 0);
    const out = await crypto.subtle.encrypt({ name: 'AES-CTR', counter, length: 64 }, await key, new Uint8Array(words * 4));
    return new DataView(out);
  };
}

/**
 * Irregular lengths by block: block k's chunks take B/2 draws a (uniform in [0, max - min]) as
 * the pairs (min + a, max - a), shuffled by a Fisher-Yates walk over the next B - 1 words, so
 * each length is uniform in [min, max] and block k starts at k × B/2 × (min + max).
 */
function blockPlan(stream: Keystream, size: number, min: number, max: number, block: number): ChunkPlan {
  const covers = (block / 2) * (min + max);
  const range = max - min + 1;
  let cached: { k: number; lengths: Promise<number[]> } | null = null;
  const lengthsOf = (k: number): Promise<number[]> => {
    if (cached?.k === k) return cached.lengths;
    // Each block owns 2B words of the keystream (B/2 AES blocks), of which it reads 3B/2 - 1.
    const lengths = stream(k * (block / 2), block / 2 + block - 1).then((v) => {
      const out = new Array<number>(block);
      for (let j = 0; j < block / 2; j++) {
        const a = v.getUint32(j * 4) % range;
        out[2 * j] = min + a;
        out[2 * j + 1] = max - a;
      }
      for (let p = block - 1, w = block / 2; p > 0; p--, w++) {
        const q = v.getUint32(w * 4) % (p + 1);
        [out[p], out[q]] = [out[q], out[p]];
      }
      return out;
    });
    cached = { k, lengths };
    return lengths;
  };
  const span = async (i: number): Promise<ChunkSpan | null> => {
    if (!Number.isSafeInteger(i) || i < 0) return null;
    const k = Math.floor(i / block);
    let offset = k * covers;
    if (offset >= size) return null;
    const lengths = await lengthsOf(k);
    for (let p = 0; p < i % block; p++) offset += lengths[p];
    return offset < size ? { index: i, offset, length: Math.min(lengths[i % block], size - offset) } : null;
  };
  return {
    async count() {
      const full = Math.floor(size / covers);
      let rest = size - full * covers;
      if (rest === 0) return full * block;
      const lengths = await lengthsOf(full);
      let n = 0;
      while (rest > 0) rest -= lengths[n++];
      return full * block + n;
    },
    span,
    async *spans(from = 0) {
      for (let i = Math.max(0, from); ; i++) {
        const s = await span(i);
        if (!s) return;
        yield s;
      }
    },
  };
}

/**
 * Plans made before blocks: length i is min + (word i mod (max - min + 1)) of one keystream
 * read from the start, so a span needs every length before it. Read in windows of 4096 lengths,
 * never whole, remembering where each window read so far starts, so that asking again (a
 * resumed upload, the next segment) goes on from the nearest window instead of the start. Only
 * uploads opened before blocks (their manager kept every span) and their contents use it.
 */
function sequencePlan(stream: Keystream, size: number, min: number, max: number): ChunkPlan {
  const WINDOW = 4096; // words, i.e. 1024 AES blocks
  const range = max - min + 1;
  const starts: { index: number; offset: number }[] = [{ index: 0, offset: 0 }];
  async function* from(i: number): AsyncGenerator<ChunkSpan> {
    let w = starts.length - 1;
    while (w > 0 && starts[w].index > i) w--;
    let { index, offset } = starts[w];
    for (; offset < size; w++) {
      if (w === starts.length) starts.push({ index, offset });
      const v = await stream(w * (WINDOW / 4), WINDOW);
      for (let j = 0; j < WINDOW && offset < size; j++, index++) {
        const length = Math.min(min + (v.getUint32(j * 4) % range), size - offset);
        if (index >= i) yield { index, offset, length };
        offset += length;
      }
    }
  }
  return {
    async count() {
      let last = -1;
      for await (const s of from(starts[starts.length - 1].index)) last = s.index;
      return last + 1;
    },
    async span(i) {
      if (!Number.isSafeInteger(i) || i < 0) return null;
      for await (const s of from(i)) return s;
      return null;
    },
    spans: (f = 0) => from(Math.max(0, f)),
  };
}

/** The span that holds a plaintext byte offset, by binary search over the plan. */
export function spanAt(spans: ChunkSpan[], offset: number): number {
  let lo = 0;
  let hi = spans.length - 1;
  if (hi < 0 || offset < 0) throw new BunsanError('range_not_satisfiable', 'offset outside content');
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (spans[mid].offset <= offset) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}
