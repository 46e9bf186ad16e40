// The browser uploader, in a Web Worker so the page stays responsive: the shared direct-mode
// uploader seals and splits here (WebCrypto in the worker) and sends chunks straight to the
// nodes; a session that already holds chunks (an interrupted upload) skips them.
import { createApiClient } from '../../../protocol/api-client.ts';
import { BunsanError } from '../../../protocol/errors.ts';
import type { CryptoLike } from '../../../protocol/crypto-like.ts';
import type { UploadSession } from '../../../protocol/api.ts';
import { uploadDirect } from '../../../protocol/upload/direct.ts';
import type { UploadJob, WorkerMessage } from './messages.ts';

const post = (m: WorkerMessage) => (self as unknown as { postMessage(m: WorkerMessage): void }).postMessage(m);

async function run(job: UploadJob): Promise<void> {
  const fetchFn = (u: string, i?: RequestInit) => fetch(u, i);
  const api = createApiClient({ portal: job.portal, token: job.token, fetch: fetchFn });
  let session: UploadSession | null = null;
  if (job.resume) {
    session = await api.session(job.resume).catch((err) => {
      if (err instanceof BunsanError && err.status === 404) return null; // gone: start afresh
      throw err;
    });
    if (session && (session.state === 'deleting' || session.size !== job.file.size)) session = null;
  }
  session ??= await api.openUpload({
    name: job.file.name, type: job.type, size: job.file.size, replicas: job.replicas,
    chunking: { mode: 'regular', size: job.chunkSize },
  });
  post({ type: 'session', id: session.id, alreadyStored: session.stored.length, chunks: session.chunkCount });
  let counts = { sentChunks: 0, skippedChunks: session.chunkCount };
  if (session.state === 'uploading') {
    const { media, ...sent } = await uploadDirect({
      api, session, crypto: crypto as CryptoLike, fetch: fetchFn, batchSize: 4, parallelBatches: 3,
      read: async (offset, length) => new Uint8Array(await job.file.slice(offset, offset + length).arrayBuffer()),
      onProgress: (progress) => post({ type: 'progress', progress }),
    });
    counts = sent;
    // The seek index built while splitting goes with the commit, so the player can seek anywhere.
    await api.commit(session.id, media);
  }
  post({ type: 'done', id: session.id, ...counts });
}

self.onmessage = (e: MessageEvent<UploadJob>) => {
  run(e.data).catch((err) => post({ type: 'error', message: err instanceof Error ? err.message : String(err) }));
};
