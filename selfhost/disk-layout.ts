// Where a self-hosted node keeps things in its folder, and the chunk file's header.
//   chunks/ab/cd/<hash>   one file per chunk: a 256-byte header (content, stamp, version, size)
//                         then the sealed bytes; two levels of 256 folders, so a folder holds a
//                         few hundred files at 16 million chunks
//   tmp/                  files being written; renamed (linked) into chunks/ only when complete,
//                         so whatever is here at start is a leftover and goes
//   orders/ab/<name>      single-use markers of copy orders, until the order expires
//   corrupt/              chunk files that failed verification, kept aside for the operator
// The header travels in the same file as the bytes, so a chunk is never visible without its
// metadata, and one rename makes both visible at once.
import { join } from 'node:path';
import type { ChunkMeta } from '../edge/node/chunk-store.ts';
import { chunkMeta } from '../edge/node/store.ts';

export const HEADER_BYTES = 256;
const MAGIC = 'bunsan-chunk v1\n';

export interface Layout { chunks: string; tmp: string; orders: string; corrupt: string }

export function layout(dir: string): Layout {
  return { chunks: join(dir, 'chunks'), tmp: join(dir, 'tmp'), orders: join(dir, 'orders'), corrupt: join(dir, 'corrupt') };
}

export const chunkDir = (l: Layout, hash: string) => join(l.chunks, hash.slice(0, 2), hash.slice(2, 4));
export const chunkPath = (l: Layout, hash: string) => join(chunkDir(l, hash), hash);
export const orderPath = (l: Layout, name: string) => join(l.orders, name.slice(-2), name);

export function encodeHeader(meta: ChunkMeta, size: number): Buffer {
  const text = MAGIC + JSON.stringify({ content: meta.content, stamp: meta.stamp, version: meta.version, size });
  if (text.length > HEADER_BYTES - 1) throw new Error('chunk header too long');
  return Buffer.from(text.padEnd(HEADER_BYTES - 1, ' ') + '\n', 'latin1');
}

/** The metadata and the body length the header promises; null if it is not a header of ours. */
export function decodeHeader(buf: Buffer): { meta: ChunkMeta; size: number } | null {
  if (buf.length < HEADER_BYTES || buf.toString('latin1', 0, MAGIC.length) !== MAGIC) return null;
  try {
    const raw = JSON.parse(buf.toString('latin1', MAGIC.length, HEADER_BYTES).trim()) as Record<string, unknown>;
    const meta = chunkMeta(raw);
    const size = raw.size;
    if (!meta || typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) return null;
    return { meta, size };
  } catch {
    return null;
  }
}
