// Direct mode (source document figs. 6-7): the uploader seals and splits on its own machine and
// sends chunks straight to the nodes the manager chose, with per-chunk upload tokens. The file
// is read once, in order, feeding the media indexer as it goes; chunks go in batches
// (register → put → confirm), a few batches at once, so memory holds batches × batch size
// chunks, never the file, and the plan is walked one span at a time, never held whole. Chunks
// the session already has are not sent again, and of them only the bytes the indexer looks at
// are read.
import type { ApiClient } from '../api-client.ts';
import type { UploadSession } from '../api.ts';
import { fromBase64Url } from '../bytes.ts';
import { deriveContentKey, sealChunk } from '../chunk-crypto.ts';
import type { CryptoLike } from '../crypto-like.ts';
import { BunsanError } from '../errors.ts';
import { sha256Hex } from '../hash.ts';
import type { MediaIndex } from '../media/media-index.ts';
import { feedIndexer, MediaIndexer } from '../media/media-indexer.ts';
import { chunkPlan, type ChunkSpan } from '../split.ts';
import { putChunk, type FetchLike } from './put-chunk.ts';

const RETRY_ROUNDS = 2;

export interface UploadProgress { chunksDone: number; chunksTotal: number; bytesDone: number; bytesTotal: number }

export interface DirectUploadOptions {
  api: ApiClient;
  session: UploadSession;
  crypto: CryptoLike;
  fetch: FetchLike;
  /** plaintext bytes [offset, offset + length) of the file */
  read: (offset: number, length: number) => Promise<Uint8Array>;
  batchSize?: number;
  parallelBatches?: number;
  onProgress?: (p: UploadProgress) => void;
}

export interface DirectUploadResult {
  sentChunks: number;
  skippedChunks: number;
  /** the time → byte index of the whole file, to send with the commit; null when it is not media */
  media: MediaIndex | null;
}

export async function uploadDirect(o: DirectUploadOptions): Promise<DirectUploadResult> {
  const { session, crypto } = o;
  const plan = chunkPlan(crypto, session.size, session.chunking);
  const ctx = { contentId: session.id, version: session.version, stampDigest: session.stampDigest };
  const key = await deriveContentKey(crypto, fromBase64Url(session.secret), ctx);
  const stored = new Set(session.stored);
  // The bytes of chunks stored before are counted as the walk passes them.
  const progress: UploadProgress = { chunksDone: stored.size, chunksTotal: session.chunkCount, bytesDone: 0, bytesTotal: session.size };
  o.onProgress?.({ ...progress });
  let sent = 0;
  let skipped = 0;
  const size = o.batchSize ?? 4;

  const sendBatch = async (batch: ChunkSpan[], plains: Uint8Array[]) => {
    const sealed = new Map<number, { hash: string; bytes: Uint8Array }>();
    for (const [i, s] of batch.entries()) {
      const bytes = await sealChunk(crypto, key, ctx, s.index, plains[i]);
      sealed.set(s.index, { hash: await sha256Hex(crypto, bytes), bytes });
    }
    // Register, put, confirm; what the nodes did not confirm is put again (puts are idempotent).
    let pending = batch;
    for (let round = 0; pending.length > 0; round++) {
      const reg = await o.api.register(session.id, {
        chunks: pending.map((s) => ({ index: s.index, hash: sealed.get(s.index)!.hash, sealedLength: sealed.get(s.index)!.bytes.length })),
      });
      const puts = await Promise.allSettled(reg.chunks.flatMap((c) => c.targets.map((t) => putChunk(o.fetch, t, c.hash, sealed.get(c.index)!.bytes))));
      const conf = await o.api.confirm(session.id, reg.chunks.map((c) => c.hash));
      if (conf.missing.length === 0) break;
      if (round >= RETRY_ROUNDS) {
        const refused = puts.find((p): p is PromiseRejectedResult => p.status === 'rejected');
        const m = conf.missing[0];
        throw refused?.reason ?? new BunsanError('node_unreachable', `chunk ${m.index} was not confirmed by node ${m.nodes.join(', ')}`);
      }
      const missing = new Set(conf.missing.map((m) => m.index));
      pending = pending.filter((s) => missing.has(s.index));
    }
    progress.chunksDone += batch.length;
    progress.bytesDone += batch.reduce((n, s) => n + s.length, 0);
    o.onProgress?.({ ...progress });
  };

  // One reader in file order feeds the indexer and fills batches; up to parallelBatches are in flight.
  const indexer = new MediaIndexer();
  const inflight = new Set<Promise<void>>();
  let failed: unknown = null;
  const launch = async (batch: ChunkSpan[], plains: Uint8Array[]) => {
    while (inflight.size >= (o.parallelBatches ?? 4)) await Promise.race(inflight);
    const p: Promise<void> = sendBatch(batch, plains).catch((err) => { failed ??= err; }).finally(() => inflight.delete(p));
    inflight.add(p);
  };
  const short = (s: ChunkSpan) => new BunsanError('bad_request', `the file changed while uploading (chunk ${s.index} is short)`);
  let batch: ChunkSpan[] = [];
  let plains: Uint8Array[] = [];
  try {
    for await (const s of plan.spans()) {
      if (failed) break;
      if (stored.has(s.index)) {
        // feedIndexer's RangeError is the file ending early; a failed read stays what it is.
        await feedIndexer(indexer, s.offset + s.length, o.read).catch((err) => { throw err instanceof RangeError ? short(s) : err; });
        skipped++;
        progress.bytesDone += s.length;
        continue;
      }
      sent++;
      const plain = await o.read(s.offset, s.length);
      if (plain.length !== s.length) throw short(s);
      indexer.push(plain);
      batch.push(s);
      plains.push(plain);
      if (batch.length === size) {
        await launch(batch, plains);
        batch = [];
        plains = [];
      }
    }
    if (batch.length > 0 && !failed) await launch(batch, plains);
  } catch (err) {
    failed ??= err;
  }
  await Promise.all(inflight);
  if (failed) throw failed;
  o.onProgress?.({ ...progress });
  return { sentChunks: sent, skippedChunks: skipped, media: indexer.finish() };
}
