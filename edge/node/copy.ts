// Node-to-node copy: the management tier signs a single-use order, this node fetches the chunk
// from the order's source with the get token inside it, and keeps it only if it is exactly what
// the order says (status, stamp, length, hash). So a move is copy → verify → record → delete
// without the bytes passing through the manager, and a replayed order does nothing.
import { BunsanError } from '../../protocol/errors.ts';
import { sha256Hex } from '../../protocol/hash.ts';
import { chunkUrl, STAMP_HEADER } from '../../protocol/node-protocol.ts';
import type { CopyToken } from '../../protocol/tokens.ts';
import { requireCopy, type NodeContext } from './auth.ts';
import { MAX_CHUNK_BODY } from './chunks.ts';
import type { NodeDeps } from './deps.ts';
import { validHash } from './store.ts';

const unreachable = (why: string) => new BunsanError('node_unreachable', `copy source ${why}`, { source: 'unreachable' });
const bad = (why: string) => new BunsanError('integrity_failed', `copy source ${why}`, { source: 'bad' });

export async function copyChunk(c: NodeContext): Promise<Response> {
  const hash = validHash(c.req.param('hash'));
  const order = await requireCopy(c, hash);
  if (order.z > MAX_CHUNK_BODY) throw new BunsanError('bad_request', `the order's size is over ${MAX_CHUNK_BODY} bytes`);
  const { store } = c.var.node;
  // Claimed before anything else, so that two deliveries of one order cannot both run; the
  // marker outlives the order, after which the order is refused as expired anyway.
  if (!(await store.claimOnce(`copy-${order.o}`, order.exp * 1000))) {
    throw new BunsanError('conflict', 'order already carried out');
  }
  const here = await store.head(hash);
  if (here) return already(c, order, here.meta?.content, here.size);

  const body = await fetchFromSource(c.var.node, order);
  const meta = { content: order.c, stamp: order.s, version: String(order.v) };
  if (await store.create(hash, body, meta)) return c.json({ stored: true, hash, size: body.byteLength }, 201);
  // Another order or an upload stored it meanwhile.
  const now = await store.head(hash);
  return already(c, order, now?.meta?.content, now?.size ?? body.byteLength);
}

function already(c: NodeContext, order: CopyToken, content: string | undefined, size: number): Response {
  if (content !== order.c) throw new BunsanError('conflict', 'this node holds the chunk for another content');
  return c.json({ stored: true, existed: true, hash: order.h, size }, 200);
}

/** The chunk's bytes from the source, checked against the order; nothing is kept on any failure. */
async function fetchFromSource(deps: NodeDeps, order: CopyToken): Promise<Uint8Array> {
  // One deadline for the whole transfer: connecting, the answer's headers and every byte.
  const signal = AbortSignal.timeout(deps.copyTimeoutMs);
  let res: Response;
  try {
    res = await deps.fetch(chunkUrl(order.src, order.h), {
      headers: { authorization: `Bearer ${order.g}` }, signal, redirect: 'manual',
    });
  } catch (err) {
    throw unreachable(signal.aborted ? 'did not answer in time' : `cannot be reached: ${(err as Error).message}`);
  }
  if (res.status !== 200) {
    await res.body?.cancel().catch(() => {});
    throw bad(`refused: HTTP ${res.status}`);
  }
  if (res.headers.get(STAMP_HEADER) !== order.s) {
    await res.body?.cancel().catch(() => {});
    throw bad('holds the chunk under another upload stamp');
  }
  const body = await readExactly(res, order.z, signal);
  if ((await sha256Hex(deps.crypto, body)) !== order.h) throw bad('sent bytes that do not hash to the chunk name');
  return body;
}

/** Reads no more than `size` bytes, and requires exactly that many. */
async function readExactly(res: Response, size: number, signal: AbortSignal): Promise<Uint8Array> {
  const out = new Uint8Array(size);
  let n = 0;
  const reader = res.body?.getReader();
  try {
    while (reader) {
      const { done, value } = await reader.read();
      if (done) break;
      if (n + value.byteLength > size) {
        await reader.cancel().catch(() => {});
        throw bad(`sent more than the order's ${size} bytes`);
      }
      out.set(value, n);
      n += value.byteLength;
    }
  } catch (err) {
    if (err instanceof BunsanError) throw err;
    throw unreachable(signal.aborted ? 'did not finish in time' : `broke off: ${(err as Error).message}`);
  }
  if (n !== size) throw bad(`sent ${n} of the order's ${size} bytes`);
  return out;
}
