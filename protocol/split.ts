// How a file is cut into chunks. Regular: fixed length. Irregular (the source document's
// "irregular lengths drawn from a random source"): each length between min and max, drawn from
// an AES-CTR keystream under a seed the manager picks with a CSPRNG. The plan is a pure function
// of (size, options), so the uploader, the edge and a resumed upload all cut identically.
import { z } from 'zod';
import { exact, fromHex } from './bytes.ts';
import type { CryptoLike } from './crypto-like.ts';
import { BunsanError } from './errors.ts';

export const MIN_CHUNK = 64 * 1024;
export const MAX_CHUNK = 16 * 1024 * 1024;
export const DEFAULT_CHUNK = 1024 * 1024;

const len = z.number().int().min(MIN_CHUNK).max(MAX_CHUNK);
export const Chunking = z.discriminatedUnion('mode', [
  z.object({ mode: z.literal('regular'), size: len }),
  z.object({ mode: z.literal('irregular'), min: len, max: len, seed: z.string().regex(/^[0-9a-f]{32}$/) })
    .refine((c) => c.min < c.max, 'min must be below max'),
]);
export type Chunking = z.infer<typeof Chunking>;

export interface ChunkSpan { index: number; offset: number; length: number }

export async function planChunks(crypto: CryptoLike, size: number, chunking: Chunking): Promise<ChunkSpan[]> {
  const lengths = chunking.mode === 'regular'
    ? null
    : await drawLengths(crypto, size, chunking.min, chunking.max, chunking.seed);
  const spans: ChunkSpan[] = [];
  let offset = 0;
  for (let i = 0; offset < size; i++) {
    const want = lengths ? lengths[i] : (chunking as { size: number }).size;
    const length = Math.min(want, size - offset);
    spans.push({ index: i, offset, length });
    offset += length;
  }
  return spans;
}

async function drawLengths(crypto: CryptoLike, size: number, min: number, max: number, seed: string): Promise<number[]> {
  const count = Math.ceil(size / min) + 1;
  const key = await crypto.subtle.importKey('raw', exact(fromHex(seed)), 'AES-CTR', false, ['encrypt']);
  const stream = new Uint8Array(await crypto.subtle.encrypt(
    { name: 'AES-CTR', counter: new Uint8Array(16), length: 64 }, key, new Uint8Array(count * 4),
  ));
  const view = new DataView(stream.buffer);
  const span = max - min + 1;
  const out: number[] = [];
  for (let i = 0; i < count; i++) out.push(min + (view.getUint32(i * 4) % span));
  return out;
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
