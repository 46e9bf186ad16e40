// Gateway mode (source document figs. 8-9): the provider streams plain bytes through the portal,
// which cuts them by the content's chunk plan, seals each chunk and places it, holding at most
// WINDOW chunks at a time, never the file. A request covers chunks from ?from= to where its body
// ends, so a large file is sent as several requests and an interrupted one resumes at `next`.
// The plaintext also feeds the media indexer, whose state the manager keeps across requests.
import type { GatewayResult } from '../../protocol/api.ts';
import { fromBase64Url } from '../../protocol/bytes.ts';
import { deriveContentKey, sealChunk } from '../../protocol/chunk-crypto.ts';
import { BunsanError } from '../../protocol/errors.ts';
import { ExactReader } from '../../protocol/exact-reader.ts';
import { sha256Hex } from '../../protocol/hash.ts';
import { MediaIndexer } from '../../protocol/media/media-indexer.ts';
import { chunkPlan } from '../../protocol/split.ts';
import { putChunk } from '../../protocol/upload/put-chunk.ts';
import { fromRpc } from '../http.ts';
import type { Caller } from '../manager/deps.ts';
import type { ManagerStub } from '../manager/home.ts';

const WINDOW = 4;

export async function gatewayUpload(req: Request, stub: ManagerStub, caller: Caller): Promise<GatewayResult> {
  const fromRaw = new URL(req.url).searchParams.get('from') ?? '0';
  if (!/^\d{1,9}$/.test(fromRaw)) throw new BunsanError('bad_request', '?from= must be a chunk index');
  const from = Number(fromRaw);
  const session = fromRpc(await stub.session(caller));
  if (session.state !== 'uploading') throw new BunsanError('conflict', `content is ${session.state}`);
  // The plan is walked from `from`, one span at a time: never built whole.
  const plan = chunkPlan(crypto, session.size, session.chunking);
  const count = session.chunkCount;
  if (from > count) throw new BunsanError('bad_request', `from=${from} is past the last chunk (${count})`);
  if (!req.body) throw new BunsanError('bad_request', 'a request body is required');
  const ctx = { contentId: session.id, version: session.version, stampDigest: session.stampDigest };
  const key = await deriveContentKey(crypto, fromBase64Url(session.secret), ctx);
  const done = new Set(session.stored);
  const reader = new ExactReader(req.body.getReader());
  const indexer = await resumeIndexer(stub, caller, (await plan.span(from))?.offset ?? session.size);
  const indexedFrom = indexer?.position ?? 0;
  const inflight = new Set<Promise<void>>();
  let held = 0;
  let peak = 0;
  let storedChunks = 0;
  let failure: unknown = null;

  const store = async (index: number, plain: Uint8Array) => {
    const sealed = await sealChunk(crypto, key, ctx, index, plain);
    held += sealed.length - plain.length;
    peak = Math.max(peak, held + reader.buffered);
    const hash = await sha256Hex(crypto, sealed);
    const reg = fromRpc(await stub.register(caller, { chunks: [{ index, hash, sealedLength: sealed.length }] }));
    await Promise.all(reg.chunks[0].targets.map((t) => putChunk(fetch, t, hash, sealed)));
    // Saved before the chunk counts as stored, so the kept state always covers every stored chunk.
    // A failed save only costs the index (a later request finds the state behind and indexes
    // nothing), never the chunk.
    if (indexer) {
      try {
        fromRpc(await stub.saveMediaProgress(caller, indexer.snapshot()));
      } catch (err) {
        console.warn(`media progress for chunk ${index} was not saved:`, err);
      }
    }
    const conf = fromRpc(await stub.confirm(caller, [hash]));
    if (!conf.stored.includes(index)) {
      throw new BunsanError('node_unreachable', `chunk ${index} was not confirmed by ${conf.missing[0]?.nodes.join(', ') || 'its nodes'}`);
    }
    done.add(index);
    storedChunks++;
    held -= sealed.length;
  };

  let i = from;
  for await (const span of plan.spans(from)) {
    if (failure) break;
    while (inflight.size >= WINDOW) await Promise.race(inflight);
    if (failure) break;
    let plain: Uint8Array;
    try {
      plain = await reader.read(span.length);
    } catch {
      // The uploader went away mid-body. Chunks already in flight still finish; it resumes at `next`.
      failure ??= new BunsanError('bad_request', `the request body was cut off in chunk ${i}`);
      break;
    }
    if (plain.length < span.length) break; // the body ended: a later request continues here
    i = span.index + 1;
    if (indexer && span.offset + plain.length > indexer.position) indexer.push(plain.subarray(indexer.position - span.offset));
    if (done.has(span.index)) continue;
    held += plain.length;
    peak = Math.max(peak, held + reader.buffered);
    const p: Promise<void> = store(span.index, plain)
      .catch((err) => { failure ??= err; })
      .finally(() => inflight.delete(p));
    inflight.add(p);
  }
  await Promise.all(inflight);
  // What was fed after the last store (chunks already stored, read again) is kept too.
  if (indexer && indexer.position > indexedFrom) await stub.saveMediaProgress(caller, indexer.snapshot()).catch(() => null);
  if (failure) throw failure;
  if (i >= count && (await reader.read(1)).length > 0) {
    throw new BunsanError('bad_request', `body is longer than the declared size of ${session.size} bytes`);
  }
  let next = from;
  while (next < count && done.has(next)) next++;
  return { next, storedChunks, peakBufferedBytes: peak };
}

/**
 * The indexer as the last request left it, or a new one at the start of the file. It must have
 * seen every byte before `offset` (where this body starts); if it has not (a state lost), the
 * upload goes on without an index.
 */
async function resumeIndexer(stub: ManagerStub, caller: Caller, offset: number): Promise<MediaIndexer | null> {
  const saved = fromRpc(await stub.mediaProgress(caller));
  const indexer = saved ? new MediaIndexer(saved) : new MediaIndexer();
  return indexer.position >= offset ? indexer : null;
}
