// Opening an upload: a fresh content secret (wrapped under the KEK at rest), the signed upload
// stamp that salts every chunk key, and the chunk plan, all fixed before the first byte moves.
import type { OpenUploadRequest, UploadSession } from '../../protocol/api.ts';
import { toBase64Url, toHex } from '../../protocol/bytes.ts';
import { SECRET_BYTES } from '../../protocol/chunk-crypto.ts';
import { randomBytes } from '../../protocol/crypto-like.ts';
import { BunsanError } from '../../protocol/errors.ts';
import { planChunks, type Chunking } from '../../protocol/split.ts';
import { signStamp, stampDigest } from '../../protocol/stamps.ts';
import { wrapSecret } from '../keys.ts';
import { logEvent } from '../registry.ts';
import type { ManagerDeps } from './deps.ts';
import type { NodeRef } from './store.ts';
import { sessionOf } from './views.ts';

export interface OpenInput {
  id: string;
  providerId: string;
  request: Required<Pick<OpenUploadRequest, 'name' | 'type' | 'size' | 'replicas'>> & { chunking: OpenUploadRequest['chunking'] };
  nodes: NodeRef[];
}

export async function openUpload(deps: ManagerDeps, input: OpenInput): Promise<UploadSession> {
  const { store, env } = deps;
  if (store.record()) throw new BunsanError('conflict', 'content already exists');
  const req = input.request;
  if (input.nodes.length < req.replicas) {
    throw new BunsanError('not_enough_nodes', `${req.replicas} replicas need ${req.replicas} active nodes; ${input.nodes.length} are active`);
  }
  const c = req.chunking ?? { mode: 'regular', size: 1 << 20 };
  const chunking: Chunking = c.mode === 'regular'
    ? { mode: 'regular', size: c.size ?? 1 << 20 }
    : { mode: 'irregular', min: c.min, max: c.max, seed: toHex(randomBytes(crypto, 16)) };
  const now = deps.now();
  const version = 1;
  const stamp = await signStamp(crypto, deps.key, { t: 'upload-stamp', c: input.id, v: version, at: now, nonce: toHex(randomBytes(crypto, 16)) });
  const secret = randomBytes(crypto, SECRET_BYTES);
  const spans = await planChunks(crypto, req.size, chunking);
  store.insertPlan(spans);
  store.saveRecord({
    id: input.id, version, providerId: input.providerId, name: req.name, type: req.type, size: req.size,
    replicas: req.replicas, chunking, chunkCount: spans.length, state: 'uploading', stamp,
    stampDigest: await stampDigest(crypto, stamp),
    wrappedSecret: toBase64Url(await wrapSecret(env.KEK, input.id, secret)), createdAt: now, nodes: input.nodes,
  });
  await env.DB.batch([
    env.DB.prepare(`INSERT INTO contents (id, provider_id, name, type, size, version, chunk_count, replicas, state, created_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'uploading', ?)`)
      .bind(input.id, input.providerId, req.name, req.type, req.size, version, spans.length, req.replicas, now),
    logEvent(env.DB, { at: now, kind: 'upload-open', content: input.id, bytes: req.size }),
  ]);
  return sessionOf(deps, { providerId: input.providerId, admin: false });
}
