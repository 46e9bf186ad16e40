// Acting on a chunk report: the manager reads the reported replica itself and, when it does not
// verify, puts a verified copy in its place. The order keeps the content readable throughout:
// the bad copy leaves the manifest first (it never counted as a verified replica), a good copy
// is read and verified from another replica, written (to the same node after its bad copy is
// deleted, or to another eligible node), confirmed by the node, and only then recorded.
import type { AuditOutcome } from '../../protocol/api.ts';
import { BunsanError } from '../../protocol/errors.ts';
import { sha256Hex } from '../../protocol/hash.ts';
import { chunkUrl, STAMP_HEADER } from '../../protocol/node-protocol.ts';
import { placeKey } from '../../protocol/placement.ts';
import { expiresIn, issueToken, TOKEN_TTL } from '../../protocol/tokens.ts';
import { putChunk } from '../../protocol/upload/put-chunk.ts';
import { readBodyLimited } from '../http.ts';
import { logEvent } from '../registry/events.ts';
import { listNodes } from '../registry/nodes.ts';
import { putPlacement, removePlacement } from '../registry/placements.ts';
import type { AuditRow, AuditStore } from './audit-store.ts';
import type { ManagerDeps } from './deps.ts';
import { checkOnNode, deleteOnNode } from './node-client.ts';
import type { ChunkRow, ContentRecord, NodeRef } from './store.ts';

type Read = { ok: true; sealed: Uint8Array } | { ok: false; why: 'bad' | 'unreachable' };

/** One replica, read and verified the way a client would: stamp, length, hash. */
async function readReplica(deps: ManagerDeps, record: ContentRecord, chunk: ChunkRow, node: NodeRef): Promise<Read> {
  const token = await issueToken(crypto, deps.key, { t: 'get', c: record.id, exp: expiresIn(deps.now(), TOKEN_TTL.mgmt) });
  let res: Response;
  try {
    res = await deps.fetch(chunkUrl(node.url, chunk.hash!), { headers: { authorization: `Bearer ${token}` } });
  } catch {
    return { ok: false, why: 'unreachable' };
  }
  if (res.status >= 500) {
    await res.body?.cancel();
    return { ok: false, why: 'unreachable' };
  }
  // A 404 or a refusal is as bad as wrong bytes: the manifest promises the chunk is there.
  if (res.status !== 200 || res.headers.get(STAMP_HEADER) !== record.stampDigest) {
    await res.body?.cancel();
    return { ok: false, why: 'bad' };
  }
  try {
    const sealed = await readBodyLimited(res, chunk.sealed_len!);
    const ok = sealed.length === chunk.sealed_len && (await sha256Hex(crypto, sealed)) === chunk.hash;
    return ok ? { ok: true, sealed } : { ok: false, why: 'bad' };
  } catch (err) {
    return { ok: false, why: err instanceof BunsanError && err.code === 'payload_too_large' ? 'bad' : 'unreachable' };
  }
}

/** Writes a verified copy to `node` and asks the node to confirm it holds it under this content and stamp. */
async function placeCopy(deps: ManagerDeps, record: ContentRecord, chunk: ChunkRow, node: NodeRef, sealed: Uint8Array): Promise<boolean> {
  const token = await issueToken(crypto, deps.key, {
    t: 'put', c: record.id, v: record.version, n: node.id, h: chunk.hash!, s: record.stampDigest, exp: expiresIn(deps.now(), TOKEN_TTL.mgmt),
  });
  try {
    await putChunk(deps.fetch, { node: node.id, url: node.url, token }, chunk.hash!, sealed);
    const held = await checkOnNode(deps, node, record.id, [chunk.hash!]);
    return held.some((h) => h.hash === chunk.hash && h.content === record.id && h.stamp === record.stampDigest && h.size === chunk.sealed_len);
  } catch {
    return false;
  }
}

export interface AuditResult { outcome: AuditOutcome; target?: string; retry?: boolean }

export async function auditReplica(deps: ManagerDeps, row: AuditRow): Promise<AuditResult> {
  const { store, env } = deps;
  // The object serves other calls while this one waits on nodes: a removal may begin meanwhile.
  const live = () => store.record()?.state === 'committed';
  const record = store.record();
  const chunk = store.chunkByHash(row.hash);
  const node = record?.nodes.find((n) => n.id === row.node_id);
  const replica = store.replicas(row.hash).find((r) => r.node_id === row.node_id);
  if (!record || !live() || !chunk || !node || !replica || replica.state === 'pending') return { outcome: 'skipped' };

  // 'deleting': an earlier attempt found it bad and stopped before a copy was placed; go on from there.
  if (replica.state === 'stored') {
    const seen = await readReplica(deps, record, chunk, node);
    if (seen.ok) return { outcome: 'healthy' };
    if (seen.why === 'unreachable') return { outcome: 'unreachable', retry: true };
  }

  let good: Uint8Array | null = null;
  let unsure = false;
  for (const r of store.replicas(row.hash).filter((x) => x.state === 'stored' && x.node_id !== node.id)) {
    const source = record.nodes.find((n) => n.id === r.node_id);
    const read = source ? await readReplica(deps, record, chunk, source) : null;
    if (read?.ok) {
      good = read.sealed;
      break;
    }
    if (read && read.why === 'unreachable') unsure = true;
  }
  // A replica that could not be read now may be fine: only all of them read and bad is final.
  if (!good) return unsure ? { outcome: 'unreachable', retry: true } : { outcome: 'unrecoverable' };
  if (!live()) return { outcome: 'skipped' };

  // The bad copy leaves the manifest and the placement index before anything else moves.
  store.setReplica(row.hash, node.id, 'deleting', deps.now());
  await removePlacement(env.DB, record.id, row.hash, node.id).run();
  const deleted = await deleteOnNode(deps, node, record.id, [row.hash]).then((d) => d.includes(row.hash), () => false);
  if (deleted) store.dropReplica(row.hash, node.id);

  // Same node first when its bad copy is gone (the placement stays as planned), then the other
  // nodes in this chunk's rendezvous order; only nodes still active in the directory.
  const active = new Set((await listNodes(env.DB)).filter((n) => n.state === 'active').map((n) => n.id));
  const holding = new Set(store.replicas(row.hash).map((r) => r.node_id));
  const order = new Set([...(deleted ? [node.id] : []), ...placeKey(row.hash, record.nodes, record.nodes.length)]);
  const candidates = record.nodes.filter((n) => active.has(n.id) && !holding.has(n.id))
    .sort((x, y) => [...order].indexOf(x.id) - [...order].indexOf(y.id));
  for (const target of candidates) {
    if (!(await placeCopy(deps, record, chunk, target, good))) continue;
    if (!live()) {
      // Removed while the copy was on its way: the removal never saw it, so it goes now.
      await deleteOnNode(deps, target, record.id, [row.hash]).catch(() => {});
      return { outcome: 'skipped' };
    }
    store.setReplica(row.hash, target.id, 'stored', deps.now());
    await putPlacement(env.DB, { content: record.id, hash: row.hash, node: target.id, bytes: chunk.sealed_len!, at: deps.now() }).run();
    return { outcome: target.id === node.id ? 'repaired' : 'moved', target: target.id };
  }
  return { outcome: 'degraded' };
}

/** Runs every due audit and records its outcome (and an event in the registry's log). */
export async function runDueAudits(deps: ManagerDeps, audits: AuditStore): Promise<void> {
  for (const row of audits.due(deps.now())) {
    const r = await auditReplica(deps, row).catch((err: Error): AuditResult => {
      console.warn(`audit of ${row.hash} on ${row.node_id} failed: ${err.message}`);
      return { outcome: 'unreachable', retry: true };
    });
    if (r.retry) audits.retry(row, deps.now(), r.outcome);
    else audits.finish(row, r.outcome, deps.now(), r.target ?? null);
    const id = deps.store.record()?.id;
    if (!r.retry && id) {
      await logEvent(deps.env.DB, {
        at: deps.now(), kind: 'replica-audit', content: id, node: row.node_id,
        detail: { index: row.idx, hash: row.hash, outcome: r.outcome, target: r.target ?? null },
      }).run();
    }
  }
}
