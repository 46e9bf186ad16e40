// Acting on a chunk report: the manager reads the reported replica itself and, when it does not
// verify, puts a verified copy in its place. The order keeps the content readable throughout:
// the bad copy leaves the manifest first (it never counted as a verified replica), then the
// chunk's plan (the same one every reconcile pass runs) makes a verified copy — on the same node
// once its bad copy is gone, else on the next node of the chunk's target — which the node
// confirms before it is recorded.
import { planChunk } from '../../protocol/lifecycle/plan.ts';
import { wanderInput } from './wander.ts';
import { logEvent } from '../registry/events.ts';
import { putPlacement, removePlacement } from '../registry/placements.ts';
import { deleteOnNode, readChunk } from '../node-client.ts';
import type { AuditRow, AuditStore } from './audit-store.ts';
import { copyChunk } from './copy.ts';
import type { ManagerDeps } from './deps.ts';
import { loadDirectory, readable } from './directory.ts';
import type { AuditOutcome } from '../../protocol/api.ts';

export interface AuditResult { outcome: AuditOutcome; target?: string; retry?: boolean }

export async function auditReplica(deps: ManagerDeps, row: AuditRow): Promise<AuditResult> {
  const { store, env } = deps;
  // The object serves other calls while this one waits on nodes: a removal may begin meanwhile.
  const live = () => store.record()?.state === 'committed';
  const record = store.record();
  const chunk = store.chunkByHash(row.hash);
  const dir = await loadDirectory(env, deps.now());
  const node = dir.get(row.node_id);
  const replica = store.replicas(row.hash).find((r) => r.node_id === row.node_id);
  if (!record || !live() || !chunk || !node || !replica || replica.state === 'pending') return { outcome: 'skipped' };
  const c = { content: record.id, stamp: record.stampDigest, hash: row.hash, size: chunk.sealed_len! };

  // 'deleting': an earlier attempt found it bad and stopped before a copy was placed; go on from there.
  if (replica.state === 'stored') {
    if (!readable(node)) return { outcome: 'unreachable', retry: true };
    const seen = await readChunk(deps, node, c);
    if (seen.ok) return { outcome: 'healthy' };
    if (seen.why === 'unreachable') return { outcome: 'unreachable', retry: true };
  }

  // Another replica must verify before anything changes: only all of them read and bad is final.
  const others = store.replicas(row.hash).filter((x) => x.state === 'stored' && x.node_id !== node.id);
  let good: string | null = null;
  let unsure = false;
  for (const r of others) {
    const source = dir.get(r.node_id);
    const read = readable(source) ? await readChunk(deps, source!, c) : null;
    if (read?.ok) {
      good = r.node_id;
      break;
    }
    if (!read || read.why === 'unreachable') unsure = true;
  }
  if (!good) return unsure ? { outcome: 'unreachable', retry: true } : { outcome: 'unrecoverable' };
  if (!live()) return { outcome: 'skipped' };

  // The bad copy leaves the manifest and the placement index before anything else moves.
  store.setReplica(row.hash, node.id, 'deleting', deps.now());
  await removePlacement(env.DB, record.id, row.hash, node.id).run();
  const deleted = await deleteOnNode(deps, node, record.id, [row.hash]).then((d) => d.includes(row.hash), () => false);
  if (deleted) store.dropReplica(row.hash, node.id);

  // The chunk's own plan says where its missing copy goes; the verified replica is the first source.
  const plan = planChunk({
    key: row.hash, replicas: record.replicas, minGrade: record.minGrade ?? 0, nodes: dir, wander: wanderInput(record, deps.now()),
    holders: store.replicas(row.hash).map((r) => ({ node: r.node_id, state: r.state })),
  });
  const wanted = [...plan.copies].sort((a, b) => Number(b.to === node.id) - Number(a.to === node.id));
  for (const want of wanted) {
    const target = dir.get(want.to)!;
    const sources = [good, ...want.from.filter((f) => f !== good)].map((id) => dir.get(id)!).filter(readable);
    store.setReplica(row.hash, target.id, 'pending', deps.now());
    const r = await copyChunk(deps, record, chunk, target, sources);
    if (!r.done) continue;
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
