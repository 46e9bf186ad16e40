// Who holds what, asked of the nodes themselves (claim 11's "server list" way) and reconciled
// with the registry: one node's inventory is read a page at a time; a chunk the placement index
// does not name becomes an orphan candidate, and for a rebuild every content seen has its
// manager write its catalog row and placements again. A candidate still unwanted after the
// grace period is deleted on its node — but only after its content's manager, asked directly,
// says it does not count on that copy (a registry that lost rows must not cost data).
import { BunsanError } from '../../protocol/errors.ts';
import type { PortalEnv } from '../env.ts';
import { contentStates } from '../registry/contents.ts';
import { logEvent } from '../registry/events.ts';
import { getNode, setInventoryCursor } from '../registry/nodes.ts';
import { forgetOrphans, noteOrphans, ripeOrphans, type OrphanRow } from '../registry/orphans.ts';
import { placedOn } from '../registry/placements.ts';
import { advanceTask, type TaskRow } from '../registry/tasks.ts';
import { seconds } from '../vars.ts';
import { clientFor, deleteOnNode, inventoryPage } from '../node-client.ts';
import { managerStub } from '../portal/managers.ts';

export async function inventoryStep(env: PortalEnv, t: TaskRow, now: number): Promise<void> {
  const db = env.DB;
  const node = await getNode(db, t.node_id!);
  const finish = async () => {
    await db.batch([advanceTask(db, t, '', true, now), setInventoryCursor(db, t.node_id!, null, now)]);
  };
  if (!node || node.state === 'down' || node.state === 'retired') return finish();
  let page;
  try {
    page = await inventoryPage(await clientFor(env), node, t.cursor || null);
  } catch (err) {
    // Unreachable or refusing now: this pass ends; the next one starts from the beginning.
    if (err instanceof BunsanError) return finish();
    throw err;
  }
  const ours = page.chunks.filter((c): c is typeof c & { content: string } => c.content !== null);
  if (t.reason === 'rebuild') {
    for (const id of new Set(ours.map((c) => c.content))) await managerStub(env, id).then((m) => m.republish()).catch(() => null);
  }
  const placed = await placedOn(db, node.id, ours.map((c) => c.hash));
  const states = await contentStates(db, ours.filter((c) => !placed.has(c.hash)).map((c) => c.content));
  // An upload in progress has copies the index only learns at commit: not orphans.
  const orphans = ours.filter((c) => !placed.has(c.hash) && states.get(c.content) !== 'uploading');
  const stmts = [
    ...noteOrphans(db, node.id, orphans.map((c) => ({ hash: c.hash, content: c.content, size: c.size })), now),
    ...(placed.size ? [forgetOrphans(db, node.id, [...placed])] : []),
    advanceTask(db, t, page.cursor ?? '', page.cursor === null, now),
    setInventoryCursor(db, node.id, page.cursor, page.cursor === null ? now : null),
  ];
  await db.batch(stmts);
}

/** Deletes orphans past their grace period that nobody wants (a bounded number per sweep). */
export async function deleteRipeOrphans(env: PortalEnv, now: number, limit = 200): Promise<number> {
  const db = env.DB;
  const ripe = await ripeOrphans(db, now - seconds(env.ORPHAN_GRACE_SECONDS, 86_400) * 1000, limit);
  if (ripe.length === 0) return 0;
  const deps = await clientFor(env);
  let deleted = 0;
  const byNode = new Map<string, OrphanRow[]>();
  for (const o of ripe) byNode.set(o.node_id, [...(byNode.get(o.node_id) ?? []), o]);
  for (const [nodeId, list] of byNode) {
    const node = await getNode(db, nodeId);
    if (!node || node.state === 'retired') {
      await forgetOrphans(db, nodeId, list.map((o) => o.hash)).run();
      continue;
    }
    if (node.state === 'down') continue;
    const placed = await placedOn(db, nodeId, list.map((o) => o.hash));
    const states = await contentStates(db, list.map((o) => o.content_id!));
    const settled: string[] = [...placed];
    for (const o of list) {
      if (placed.has(o.hash)) continue;
      const state = states.get(o.content_id!);
      if (state === 'uploading') {
        settled.push(o.hash);
        continue;
      }
      const manager = await managerStub(env, o.content_id!);
      // The manager is the truth: it may count on this copy (the index lags), or know the content
      // the catalog lost; either way it writes the registry again and the copy stays.
      const wanted = state ? await manager.wants(o.hash, nodeId).catch(() => true) : (await manager.republish().catch(() => ({ republished: true }))).republished;
      if (wanted) {
        if (state) await manager.republish().catch(() => null);
        settled.push(o.hash);
        continue;
      }
      const gone = await deleteOnNode(deps, node, o.content_id!, [o.hash]).catch(() => null);
      if (gone === null) continue; // unreachable: next sweep
      await logEvent(db, { at: now, kind: 'orphan-deleted', content: o.content_id!, node: nodeId, bytes: o.size, detail: { hash: o.hash, firstSeen: o.first_seen } }).run();
      settled.push(o.hash);
      deleted++;
    }
    if (settled.length) await forgetOrphans(db, nodeId, settled).run();
  }
  return deleted;
}
