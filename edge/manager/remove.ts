// Delete (source document figs. 10-12): every replica on every node first, each deletion
// recorded; only when none is left does the catalog entry go. A node that cannot be reached
// keeps the content in 'deleting' and the manager's alarm retries.
import { deleteContent, markDeleting } from '../registry/contents.ts';
import { logEvent } from '../registry/events.ts';
import { requireOwner, requireRecord, type Caller, type ManagerDeps } from './deps.ts';
import { deleteOnNode } from '../node-client.ts';
import { loadDirectory } from './directory.ts';

export async function removeContent(deps: ManagerDeps, caller: Caller): Promise<{ state: 'deleted' | 'deleting'; pendingNodes: string[] }> {
  const { store, env } = deps;
  const record = requireRecord(store);
  requireOwner(record, caller);
  if (record.state !== 'deleting') {
    record.state = 'deleting';
    store.saveRecord(record);
    await markDeleting(env.DB, record.id).run();
  }
  const now = deps.now();
  const byNode = new Map<string, string[]>();
  for (const r of store.replicas()) {
    store.setReplica(r.hash, r.node_id, 'deleting', now);
    byNode.set(r.node_id, [...(byNode.get(r.node_id) ?? []), r.hash]);
  }
  const pending: string[] = [];
  const dir = await loadDirectory(env, now);
  await Promise.all([...byNode].map(async ([nodeId, hashes]) => {
    const node = dir.get(nodeId);
    // A retired node, or one down past its grace period, is gone with whatever it held: nothing to
    // ask it (if it ever comes back, the inventory reconciliation deletes what nobody wants).
    if (!node || node.state === 'retired' || node.lost) {
      for (const h of hashes) store.dropReplica(h, nodeId);
      return;
    }
    // Down for now: the answer says so at once, and the alarm asks again.
    if (node.state === 'down') {
      pending.push(nodeId);
      return;
    }
    try {
      await deleteOnNode(deps, node, record.id, hashes);
      for (const h of hashes) store.dropReplica(h, nodeId);
      await logEvent(env.DB, { at: deps.now(), kind: 'replicas-deleted', content: record.id, node: nodeId, detail: { chunks: hashes.length } }).run();
    } catch {
      pending.push(nodeId);
    }
  }));
  if (pending.length > 0) return { state: 'deleting', pendingNodes: pending.sort() };
  await env.DB.batch([
    ...deleteContent(env.DB, record.id),
    logEvent(env.DB, { at: deps.now(), kind: 'content-deleted', content: record.id, bytes: record.size }),
  ]);
  return { state: 'deleted', pendingNodes: [] };
}
