// Opening an upload: a fresh content secret (wrapped under the KEK at rest), the signed upload
// stamp that salts every chunk key (and carries the publish/expire window) and the chunk plan,
// fixed before the first byte moves. Where each chunk goes is decided as it is registered, over
// the directory as it is then. The plan is its parameters and its count, never its spans: an
// open costs the same for 1 KiB as for the largest file.
import type { ManagerRegion, OpenUploadParsed, UploadSession } from '../../protocol/api.ts';
import { toBase64Url, toHex } from '../../protocol/bytes.ts';
import { SECRET_BYTES } from '../../protocol/chunk-crypto.ts';
import { randomBytes } from '../../protocol/crypto-like.ts';
import { BunsanError } from '../../protocol/errors.ts';
import { chunkPlan, IRREGULAR_BLOCK, type Chunking } from '../../protocol/split.ts';
import { signStamp, stampDigest, type UploadStamp } from '../../protocol/stamps.ts';
import { wrapSecret } from '../keys.ts';
import { insertContent, openUploadsOf, type UploadQuota } from '../registry/contents.ts';
import { logEvent } from '../registry/events.ts';
import type { ManagerDeps } from './deps.ts';
import { eligible } from '../../protocol/lifecycle/target.ts';
import { loadDirectory, uploadDirectory } from './directory.ts';
import { sessionOf } from './views.ts';

export interface OpenInput {
  id: string;
  providerId: string;
  request: OpenUploadParsed;
  /** the provider's limits on open uploads (upload-limits.ts); absent for the operator */
  quota?: UploadQuota;
  /** the location hint this object was made with (null: none); it is named by the content id */
  region?: ManagerRegion | null;
}

export async function openUpload(deps: ManagerDeps, input: OpenInput): Promise<UploadSession> {
  const { store, env } = deps;
  if (store.record()) throw new BunsanError('conflict', 'content already exists');
  const req = input.request;
  const now = deps.now();
  if (req.expireAt !== undefined && req.expireAt <= now) throw new BunsanError('invalid_body', 'expireAt is in the past');
  // Source document [0053]: nodes graded by security, a content placed only on its grade or better.
  const dir = uploadDirectory(await loadDirectory(env, now));
  const nodes = [...dir.values()].filter((n) => eligible(n, { replicas: req.replicas, minGrade: req.minGrade }));
  if (nodes.length < req.replicas) {
    throw new BunsanError('not_enough_nodes',
      `${req.replicas} replicas need ${req.replicas} nodes that take copies, of grade ${req.minGrade} or better; ${nodes.length} qualify`);
  }
  const c = req.chunking;
  const chunking: Chunking = c.mode === 'regular'
    ? { mode: 'regular', size: c.size }
    : { mode: 'irregular', min: c.min, max: c.max, seed: toHex(randomBytes(crypto, 16)), block: IRREGULAR_BLOCK };
  const version = 1;
  const payload: UploadStamp = { t: 'upload-stamp', c: input.id, v: version, at: now, nonce: toHex(randomBytes(crypto, 16)) };
  if (req.publishAt !== undefined) payload.publishAt = req.publishAt;
  if (req.expireAt !== undefined) payload.expireAt = req.expireAt;
  const stamp = await signStamp(crypto, deps.key, payload);
  const secret = randomBytes(crypto, SECRET_BYTES);
  const chunkCount = await chunkPlan(crypto, req.size, chunking).count();
  // The catalog entry first, counted against the quota in the same statement: a refusal leaves
  // nothing behind, here or in the registry.
  const region = input.region ?? null;
  const entry = { id: input.id, providerId: input.providerId, request: req, version, chunkCount, createdAt: now, manager: input.id, managerRegion: region };
  const inserted = await insertContent(env.DB, entry, input.quota).run();
  if (!inserted.meta.changes) throw await overQuota(env.DB, input.providerId, req.size, input.quota!);
  store.saveRecord({
    id: input.id, version, providerId: input.providerId, name: req.name, type: req.type, size: req.size,
    replicas: req.replicas, chunking, chunkCount, state: 'uploading', stamp,
    stampDigest: await stampDigest(crypto, stamp),
    wrappedSecret: toBase64Url(await wrapSecret(env.KEK, input.id, secret)), createdAt: now,
    visibility: req.visibility, placement: req.placement, minGrade: req.minGrade,
    ...(req.publishAt !== undefined ? { publishAt: req.publishAt } : {}),
    ...(req.expireAt !== undefined ? { expireAt: req.expireAt } : {}),
    ...(req.wanderSeconds !== undefined ? { wander: { periodMs: req.wanderSeconds * 1000, salt: toHex(randomBytes(crypto, 16)) } } : {}),
  });
  store.setMeta('self', { name: input.id, generation: 0, region });
  await logEvent(env.DB, {
    at: now, kind: 'upload-open', content: input.id, bytes: req.size,
    detail: { visibility: req.visibility, minGrade: req.minGrade, placement: req.placement, ...(req.wanderSeconds ? { wanderSeconds: req.wanderSeconds } : {}) },
  }).run();
  return sessionOf(deps, { providerId: input.providerId, admin: false });
}

async function overQuota(db: D1Database, providerId: string, size: number, quota: UploadQuota): Promise<BunsanError> {
  const open = await openUploadsOf(db, providerId);
  const details = { openUploads: open.uploads, openBytes: open.bytes, maxUploads: quota.uploads, maxBytes: quota.bytes };
  const why = open.uploads >= quota.uploads
    ? `${open.uploads} uploads are open, the most a provider may have`
    : `${open.bytes} bytes are declared by open uploads, and ${size} more would pass the limit of ${quota.bytes}`;
  return new BunsanError('quota_exceeded', `${why}: commit or remove an open upload first`, details);
}
