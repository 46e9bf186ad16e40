// How chunks sit in R2: key `chunks/{hash}`, with the content id, upload-stamp digest and
// content version as custom metadata. Anything not shaped like that is not ours to serve.
import { BunsanError } from '../../protocol/errors.ts';
import { HASH_RE } from '../../protocol/hash.ts';
import { ContentId } from '../../protocol/ids.ts';

export const PREFIX = 'chunks/';
export const chunkKey = (hash: string) => PREFIX + hash;

export interface ChunkMeta { content: string; stamp: string; version: string }

export function chunkMeta(obj: R2Object | null): ChunkMeta | null {
  const m = obj?.customMetadata;
  if (!m || !ContentId.safeParse(m.content).success || !HASH_RE.test(m.stamp ?? '')) return null;
  return { content: m.content, stamp: m.stamp, version: m.version ?? '' };
}

/** The {hash} path segment, checked before it goes anywhere near a key (`..%2f` and friends). */
export function validHash(raw: string | undefined): string {
  if (!raw || !HASH_RE.test(raw)) throw new BunsanError('invalid_hash', 'chunk name must be 64 lowercase hex digits');
  return raw;
}

/** Maps with at most `limit` calls in flight: enough to hide R2 latency without a stampede. */
export async function mapLimit<T, R>(items: T[], limit: number, fn: (x: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
