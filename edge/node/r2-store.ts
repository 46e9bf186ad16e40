// The Worker's chunk store: R2, key `chunks/{hash}`, with the content id, upload-stamp digest and
// content version as custom metadata. R2 checks each object's SHA-256 as it is written and keeps
// its own integrity, so reads are not hashed again here (that would cost Worker CPU per request).
// Copy-order nonces are small objects under `orders/`, which a bucket lifecycle rule expires.
import { BunsanError } from '../../protocol/errors.ts';
import type { ChunkHead, ChunkMeta, ChunkStore } from './chunk-store.ts';
import { chunkMeta } from './store.ts';

export const PREFIX = 'chunks/';
export const ORDER_PREFIX = 'orders/';
export const chunkKey = (hash: string) => PREFIX + hash;

export function r2Store(bucket: R2Bucket): ChunkStore {
  return {
    async head(hash) {
      const obj = await bucket.head(chunkKey(hash));
      return obj ? { size: obj.size, meta: chunkMeta(obj.customMetadata), tag: obj.etag } : null;
    },
    async read(hash, head: ChunkHead, range) {
      // onlyIf the etag is unchanged: the object we checked is the object we stream.
      const obj = await bucket.get(chunkKey(hash), {
        onlyIf: { etagMatches: head.tag },
        ...(range ? { range: { offset: range.offset, length: range.length } } : {}),
      });
      return obj && 'body' in obj ? obj.body : null;
    },
    async create(hash, body, meta: ChunkMeta) {
      // Conditional put: two racing uploads cannot both "create", and an existing chunk of
      // another content is never overwritten.
      const stored = await bucket.put(chunkKey(hash), body, {
        onlyIf: new Headers({ 'if-none-match': '*' }),
        sha256: hash, // R2 checks it again on its side
        httpMetadata: { contentType: 'application/octet-stream' },
        customMetadata: { content: meta.content, stamp: meta.stamp, version: meta.version },
      });
      return stored !== null;
    },
    async remove(hashes) {
      // At most 1000 keys: R2's limit for one delete call, and the batch routes' limit.
      if (hashes.length > 0) await bucket.delete(hashes.map(chunkKey));
    },
    async list(cursor, limit) {
      let page: R2Objects;
      try {
        page = await bucket.list({ prefix: PREFIX, cursor, limit, include: ['customMetadata'] });
      } catch (err) {
        // The only input R2 can reject here is the cursor a client passed back to us.
        if (cursor) throw new BunsanError('bad_request', 'cursor is not valid');
        throw err;
      }
      return {
        chunks: page.objects.map((o) => ({ hash: o.key.slice(PREFIX.length), size: o.size, content: o.customMetadata?.content ?? null })),
        cursor: page.truncated ? page.cursor : null,
      };
    },
    async claimOnce(name, expiresAt) {
      const put = await bucket.put(ORDER_PREFIX + name, '', {
        onlyIf: new Headers({ 'if-none-match': '*' }),
        customMetadata: { expires: String(expiresAt) },
      });
      return put !== null;
    },
  };
}
