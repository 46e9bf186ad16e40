// Read-only views of a manager's state: the upload session, the manifest a client downloads
// with, and the operator's info (every chunk and where each replica lives).
import type { ContentInfo, UploadSession } from '../../protocol/api.ts';
import { fromBase64Url, toBase64Url } from '../../protocol/bytes.ts';
import { SEAL_OVERHEAD } from '../../protocol/chunk-crypto.ts';
import { BunsanError } from '../../protocol/errors.ts';
import { MANIFEST_FORMAT, type Manifest } from '../../protocol/manifest.ts';
import type { MediaIndex } from '../../protocol/media/media-index.ts';
import { expiresIn, issueToken, TOKEN_TTL } from '../../protocol/tokens.ts';
import { unwrapSecret } from '../keys.ts';
import { FAULT_WINDOW_MS, recentFaults } from '../registry/events.ts';
import { listNodes } from '../registry/nodes.ts';
import { authorizeViewer, type ViewerAccess } from './access.ts';
import { requireOwner, requireRecord, type Caller, type ManagerDeps } from './deps.ts';
import type { GrantStore } from './grant-store.ts';

export async function sessionOf(deps: ManagerDeps, caller: Caller): Promise<UploadSession> {
  const r = requireRecord(deps.store);
  requireOwner(r, caller);
  const secret = await unwrapSecret(deps.env.KEK, r.id, fromBase64Url(r.wrappedSecret));
  return {
    id: r.id, version: r.version, state: r.state, name: r.name, type: r.type, size: r.size, replicas: r.replicas,
    chunking: r.chunking, chunkCount: r.chunkCount, stamp: r.stamp, stampDigest: r.stampDigest,
    secret: toBase64Url(secret), stored: deps.store.completeIndices(r.replicas),
    visibility: r.visibility ?? 'public', placement: r.placement ?? 'rendezvous', minGrade: r.minGrade ?? 0,
    ...(r.publishAt !== undefined ? { publishAt: r.publishAt } : {}),
    ...(r.expireAt !== undefined ? { expireAt: r.expireAt } : {}),
  };
}

export async function buildManifest(deps: ManagerDeps, grants: GrantStore, access: ViewerAccess): Promise<Manifest> {
  const r = requireRecord(deps.store);
  if (r.state !== 'committed') throw new BunsanError(r.state === 'deleting' ? 'content_not_found' : 'not_committed', `content is ${r.state}`);
  await authorizeViewer(deps, grants, r, access);
  const stored = new Map<string, string[]>();
  for (const rep of deps.store.replicas()) {
    if (rep.state === 'stored') stored.set(rep.hash, [...(stored.get(rep.hash) ?? []), rep.node_id]);
  }
  // Retired nodes are gone from the directory, so chunk lists must not name them either.
  const [all, faults] = await Promise.all([listNodes(deps.env.DB), recentFaults(deps.env.DB, deps.now() - FAULT_WINDOW_MS)]);
  const directory = all.filter((n) => n.state !== 'retired');
  const live = new Set(directory.map((n) => n.id));
  const used = new Set([...stored.values()].flat());
  const now = deps.now();
  const secret = await unwrapSecret(deps.env.KEK, r.id, fromBase64Url(r.wrappedSecret));
  return {
    format: MANIFEST_FORMAT, id: r.id, version: r.version, name: r.name, type: r.type, size: r.size,
    createdAt: r.createdAt, committedAt: r.committedAt!, chunking: r.chunking,
    chunks: deps.store.chunks().map((c) => ({
      index: c.idx, offset: c.off, length: c.len, sealedLength: c.sealed_len ?? c.len + SEAL_OVERHEAD, hash: c.hash!,
      nodes: (stored.get(c.hash!) ?? []).filter((n) => live.has(n)),
    })),
    nodes: directory.filter((n) => used.has(n.id)).map(({ id, url, region, grade }) => ({ id, url, region, grade, ...(faults.get(id) ? { faults: faults.get(id) } : {}) })),
    tokens: { get: await issueToken(crypto, deps.key, { t: 'get', c: r.id, exp: expiresIn(now, TOKEN_TTL.get) }) },
    stamps: { upload: r.stamp, commit: r.commitStamp! },
    key: { secret: toBase64Url(secret) },
    ...mediaOf(deps),
  };
}

const mediaOf = (deps: ManagerDeps): { media?: MediaIndex } => {
  const media = deps.store.media<MediaIndex>('index');
  return media ? { media } : {};
};

export async function buildInfo(deps: ManagerDeps, caller: Caller): Promise<ContentInfo> {
  const r = requireRecord(deps.store);
  requireOwner(r, caller);
  const reps = new Map<string, { node: string; state: 'pending' | 'stored' | 'deleting' }[]>();
  for (const rep of deps.store.replicas()) reps.set(rep.hash, [...(reps.get(rep.hash) ?? []), { node: rep.node_id, state: rep.state }]);
  return {
    id: r.id, name: r.name, type: r.type, size: r.size, version: r.version, chunkCount: r.chunkCount,
    replicas: r.replicas, committedAt: r.committedAt ?? 0, state: r.state, visibility: r.visibility ?? 'public',
    chunks: deps.store.chunks().map((c) => ({
      index: c.idx, offset: c.off, length: c.len, sealedLength: c.sealed_len ?? 0, hash: c.hash ?? '0'.repeat(64),
      replicas: c.hash ? reps.get(c.hash) ?? [] : [],
    })),
    ...mediaOf(deps),
  };
}

