import { z } from 'zod';
import { toHex } from './bytes.ts';
import { randomBytes, type CryptoLike } from './crypto-like.ts';
import { HASH_RE } from './hash.ts';

export const ContentId = z.string().regex(/^[0-9a-f]{32}$/, 'content id is 32 hex digits');
export const NodeId = z.string().regex(/^[a-z0-9][a-z0-9-]{0,31}$/, 'node id is 1-32 of a-z, 0-9, -');
export const ChunkHash = z.string().regex(HASH_RE, 'chunk hash is 64 lowercase hex digits');

export function newContentId(crypto: CryptoLike): string {
  return toHex(randomBytes(crypto, 16));
}
