// Direct mode (source document figs. 6-7): the uploader seals and splits on its own machine and
// sends chunks straight to the nodes the manager chose, with per-chunk upload tokens. Work goes
// in batches (register → put → confirm), a few batches at once, so memory holds
// batches × batch size chunks, never the file. Chunks the session already has are skipped.
import type { ApiClient } from '../api-client.ts';
import type { UploadSession } from '../api.ts';
import { fromBase64Url } from '../bytes.ts';
import { deriveContentKey, sealChunk } from '../chunk-crypto.ts';
import type { CryptoLike } from '../crypto-like.ts';
import { BunsanError } from '../errors.ts';
import { sha256Hex } from '../hash.ts';
import { planChunks, type ChunkSpan } from '../split.ts';
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

export async function uploadDirect(o: DirectUploadOptions): Promise<{ sentChunks: number; skippedChunks: number }> {
  const { session, crypto } = o;
  const spans = await planChunks(crypto, session.size, session.chunking);
  const ctx = { contentId: session.id, version: session.version, stampDigest: session.stampDigest };
  const key = await deriveContentKey(crypto, fromBase64Url(session.secret), ctx);
  const stored = new Set(session.stored);
  const todo = spans.filter((s) => !stored.has(s.index));
  const progress: UploadProgress = {
    chunksDone: spans.length - todo.length, chunksTotal: spans.length,
    bytesDone: spans.filter((s) => stored.has(s.index)).reduce((n, s) => n + s.length, 0), bytesTotal: session.size,
  };
  o.onProgress?.({ ...progress });
  const size = o.batchSize ?? 4;
  const batches: ChunkSpan[][] = [];
  for (let i = 0; i < todo.length; i += size) batches.push(todo.slice(i, i + size));

  const sendBatch = async (batch: ChunkSpan[]) => {
    const sealed = new Map<number, { hash: string; bytes: Uint8Array }>();
    for (const s of batch) {
      const plain = await o.read(s.offset, s.length);
      if (plain.length !== s.length) throw new BunsanError('bad_request', `the file changed while uploading (chunk ${s.index} is short)`);
      const bytes = await sealChunk(crypto, key, ctx, s.index, plain);
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

  let next = 0;
  let failed: unknown = null;
  const worker = async () => {
    while (next < batches.length && !failed) {
      const b = batches[next++];
      await sendBatch(b).catch((err) => { failed ??= err; });
    }
  };
  await Promise.all(Array.from({ length: Math.min(o.parallelBatches ?? 4, batches.length) }, worker));
  if (failed) throw failed;
  return { sentChunks: todo.length, skippedChunks: spans.length - todo.length };
}
