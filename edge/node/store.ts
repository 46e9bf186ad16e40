// Checks shared by every chunk store: what a chunk's name and metadata must look like before
// anything is read or served under them.
import { BunsanError } from '../../protocol/errors.ts';
import { HASH_RE } from '../../protocol/hash.ts';
import { ContentId } from '../../protocol/ids.ts';
import type { ChunkMeta } from './chunk-store.ts';

export type { ChunkMeta } from './chunk-store.ts';

/** Metadata as stored (R2 custom metadata, a file's header); anything not shaped like ours is null. */
export function chunkMeta(m: Record<string, unknown> | null | undefined): ChunkMeta | null {
  if (!m || typeof m.content !== 'string' || typeof m.stamp !== 'string') return null;
  if (!ContentId.safeParse(m.content).success || !HASH_RE.test(m.stamp)) return null;
  return { content: m.content, stamp: m.stamp, version: typeof m.version === 'string' ? m.version : '' };
}

/** The {hash} path segment, checked before it goes anywhere near a key (`..%2f` and friends). */
export function validHash(raw: string | undefined): string {
  if (!raw || !HASH_RE.test(raw)) throw new BunsanError('invalid_hash', 'chunk name must be 64 lowercase hex digits');
  return raw;
}

/** Maps with at most `limit` calls in flight: enough to hide storage latency without a stampede. */
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
