// One chunk: read (with ranges), store, delete. Chunks are opaque ciphertext addressed by
// their SHA-256, so a stored object can only ever hold the bytes its name promises.
import { BunsanError } from '../../protocol/errors.ts';
import { sha256Hex } from '../../protocol/hash.ts';
import { CONTENT_HEADER, STAMP_HEADER } from '../../protocol/node-protocol.ts';
import { parseRange, type ByteRange } from '../../protocol/range.ts';
import { MAX_CHUNK } from '../../protocol/split.ts';
import { errorResponse, readBodyLimited } from '../http.ts';
import { requireGet, requireMgmt, requirePut, type NodeContext } from './auth.ts';
import { validHash } from './store.ts';

/** A sealed chunk is at most the plaintext limit plus its AEAD overhead. */
export const MAX_CHUNK_BODY = MAX_CHUNK + 64;

const notHere = () => new BunsanError('chunk_not_found', 'this node does not hold that chunk');

export async function getChunk(c: NodeContext): Promise<Response> {
  const hash = validHash(c.req.param('hash'));
  const token = await requireGet(c);
  const { store } = c.var.node;
  // A token narrowed to one chunk is refused for any other before anything is looked up.
  if (token.h !== undefined && token.h !== hash) throw new BunsanError('forbidden', 'the token does not grant this chunk');
  // head first: ownership must be checked and the range resolved against the size before
  // any bytes are read. A chunk held for another content gets the answer of an absent one, so
  // that a token for one content cannot learn which other hashes this node holds.
  const head = await store.head(hash);
  const meta = head?.meta;
  if (!head || !meta || meta.content !== token.c) throw notHere();

  let range: ByteRange | null;
  try {
    range = parseRange(c.req.header('range'), head.size);
  } catch (err) {
    const res = errorResponse(err);
    if (res.status === 416) res.headers.set('content-range', `bytes */${head.size}`);
    return res;
  }
  const headers = new Headers({
    'content-type': 'application/octet-stream',
    'accept-ranges': 'bytes',
    'cache-control': 'private, max-age=31536000, immutable',
    etag: `"${hash}"`,
    [STAMP_HEADER]: meta.stamp,
    [CONTENT_HEADER]: meta.content,
  });
  const length = range ? range.end - range.start + 1 : head.size;
  headers.set('content-length', String(length));
  if (range) headers.set('content-range', `bytes ${range.start}-${range.end}/${head.size}`);
  const status = range ? 206 : 200;
  if (c.req.method === 'HEAD') return new Response(null, { status, headers });

  const body = await store.read(hash, head, range ? { offset: range.start, length } : null);
  if (!body) throw notHere();
  c.var.node.served?.(length);
  // A token narrowed to one chunk is a copy between nodes (or a check), not a viewer's demand.
  if (token.h === undefined) c.var.node.tally?.add(length, meta.content);
  return new Response(body as BodyInit, { status, headers });
}

export async function putChunk(c: NodeContext): Promise<Response> {
  const hash = validHash(c.req.param('hash'));
  const token = await requirePut(c, hash);
  const body = await readBodyLimited(c.req.raw, MAX_CHUNK_BODY);
  if ((await sha256Hex(c.var.node.crypto, body)) !== hash) {
    throw new BunsanError('hash_mismatch', 'the body does not hash to the chunk name');
  }
  const { store } = c.var.node;
  if (await store.create(hash, body, { content: token.c, stamp: token.s, version: String(token.v) })) {
    return c.json({ stored: true, hash, size: body.byteLength }, 201);
  }
  const existing = (await store.head(hash))?.meta;
  if (existing?.content === token.c) return c.json({ stored: true, hash, existed: true }, 200);
  throw new BunsanError('conflict', 'this node holds the chunk for another content');
}

export async function deleteChunk(c: NodeContext): Promise<Response> {
  const hash = validHash(c.req.param('hash'));
  const token = await requireMgmt(c);
  const { store } = c.var.node;
  const head = await store.head(hash);
  if (!head) throw notHere();
  if (token.c && head.meta?.content !== token.c) {
    throw new BunsanError('forbidden', 'the token does not grant this chunk');
  }
  await store.remove([hash]);
  return c.json({ deleted: [hash] });
}
