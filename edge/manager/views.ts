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
import { loadDirectory, readable, type Directory } from './directory.ts';
import { reconcileState } from './reconcile.ts';
import { authorizeViewer, type ViewerAccess } from './access.ts';
import { requireOwner, requireRecord, type Caller, type ManagerDeps } from './deps.ts';
import type { GrantStore } from './grant-store.ts';
import type { ContentRecord } from './store.ts';

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
    ...wanderOf(r),
  };
}

const wanderOf = (r: ContentRecord): { wanderSeconds?: number } => (r.wander ? { wanderSeconds: r.wander.periodMs / 1000 } : {});

export async function buildManifest(deps: ManagerDeps, grants: GrantStore, access: ViewerAccess): Promise<Manifest> {
  const r = requireRecord(deps.store);
  if (r.state !== 'committed') throw new BunsanError(r.state === 'deleting' ? 'content_not_found' : 'not_committed', `content is ${r.state}`);
  await authorizeViewer(deps, grants, r, access);
  const now = deps.now();
  const [dir, faults] = await Promise.all([loadDirectory(deps.env, now), recentFaults(deps.env.DB, now - FAULT_WINDOW_MS)]);
  const serving = servingCopies(deps, dir);
  const chunks = deps.store.chunks();
  const unavailable = chunks.filter((c) => !serving.get(c.hash!)?.length);
  if (unavailable.length > 0) {
    const why = unavailable.slice(0, 20).map((c) => ({ index: c.idx, reason: whyUnavailable(deps, dir, c.hash!) }));
    throw new BunsanError('content_unavailable',
      `${unavailable.length} of ${chunks.length} chunks cannot be served now: chunk ${why[0].index} (${why[0].reason})${unavailable.length > 1 ? ', …' : ''}`,
      { chunks: why });
  }
  const used = new Set([...serving.values()].flat());
  const secret = await unwrapSecret(deps.env.KEK, r.id, fromBase64Url(r.wrappedSecret));
  return {
    format: MANIFEST_FORMAT, id: r.id, version: r.version, name: r.name, type: r.type, size: r.size,
    createdAt: r.createdAt, committedAt: r.committedAt!, chunking: r.chunking,
    chunks: chunks.map((c) => ({
      index: c.idx, offset: c.off, length: c.len, sealedLength: c.sealed_len ?? c.len + SEAL_OVERHEAD, hash: c.hash!,
      nodes: serving.get(c.hash!)!,
    })),
    nodes: [...dir.values()].filter((n) => used.has(n.id)).map(({ id, url, region, grade }) => ({ id, url, region, grade, ...(faults.get(id) ? { faults: faults.get(id) } : {}) })),
    tokens: { get: await issueToken(crypto, deps.key, { t: 'get', c: r.id, exp: expiresIn(now, TOKEN_TTL.get) }) },
    stamps: { upload: r.stamp, commit: r.commitStamp! },
    key: { secret: toBase64Url(secret) },
    ...mediaOf(deps),
  };
}

/**
 * Per chunk, the nodes a client may be sent to: verified copies on nodes that serve now. A copy
 * on a node back from down is not among them until the manager has checked it again.
 */
function servingCopies(deps: ManagerDeps, dir: Directory): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const rep of deps.store.replicas()) {
    const n = dir.get(rep.node_id);
    if (rep.state !== 'stored' || !readable(n) || rep.verified_at < n!.recoveredAt) continue;
    out.set(rep.hash, [...(out.get(rep.hash) ?? []), rep.node_id]);
  }
  return out;
}

/** Why a chunk has no copy to serve, in words an operator can act on. */
function whyUnavailable(deps: ManagerDeps, dir: Directory, hash: string): string {
  const reps = deps.store.replicas(hash);
  if (reps.length === 0) return 'no copy is known';
  return reps.map((r) => {
    const n = dir.get(r.node_id);
    if (!n) return `${r.node_id}: not in the directory`;
    if (n.state === 'down') return `${r.node_id}: down since ${new Date(n.stateSince).toISOString()}`;
    if (n.state === 'retired') return `${r.node_id}: retired`;
    if (r.state !== 'stored') return `${r.node_id}: copy ${r.state}`;
    return `${r.node_id}: back from down, its copy is being checked`;
  }).join('; ');
}

function upkeepOf(deps: ManagerDeps) {
  const s = reconcileState(deps);
  return { due: s.due, reason: s.reason, passUnderWay: s.pass !== null, stalled: s.stalled };
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
    upkeep: upkeepOf(deps),
    ...wanderOf(r),
    chunks: deps.store.chunks().map((c) => ({
      index: c.idx, offset: c.off, length: c.len, sealedLength: c.sealed_len ?? 0, hash: c.hash ?? '0'.repeat(64),
      replicas: c.hash ? reps.get(c.hash) ?? [] : [],
    })),
    ...mediaOf(deps),
  };
}

