// Deterministic content for the benchmark, readable at any offset without holding it: AES-128
// in counter mode over zeros under a fixed key. The shaper serves the aria2 blob from it and
// the harness uploads the bunsan item from it, so nothing of that size sits on disk.
import { createCipheriv, createHash } from 'node:crypto';

const BLOCK = 16;

function counter(block: bigint): Buffer {
  const iv = Buffer.alloc(16);
  iv.writeBigUInt64BE(block >> 64n, 0);
  iv.writeBigUInt64BE(block & 0xffffffffffffffffn, 8);
  return iv;
}

/** Bytes [offset, offset + length) of the stream named by `seed`. */
export function streamBytes(seed: string, offset: number, length: number): Buffer {
  const key = createHash('sha256').update(seed).digest().subarray(0, 16);
  const start = Math.floor(offset / BLOCK) * BLOCK;
  const cipher = createCipheriv('aes-128-ctr', key, counter(BigInt(start / BLOCK)));
  const out = cipher.update(Buffer.alloc(offset - start + length));
  return out.subarray(offset - start);
}

/** SHA-256 (hex) of the first `size` bytes of the stream, computed in 8 MiB steps. */
export function streamDigest(seed: string, size: number): string {
  const h = createHash('sha256');
  const step = 8 << 20;
  for (let o = 0; o < size; o += step) h.update(streamBytes(seed, o, Math.min(step, size - o)));
  return h.digest('hex');
}
