// Commit: only when every chunk has its required replicas confirmed by the nodes. Then the
// commit stamp binds the ordered hash list, the catalog lists the content, the placement
// index in D1 mirrors where every replica lives, and the media index (the uploader's, else the
// one the edge built in gateway mode) is kept for the manifest.
import type { CommitResponse } from '../../protocol/api.ts';
import { BunsanError } from '../../protocol/errors.ts';
import { hashListRoot, signStamp } from '../../protocol/stamps.ts';
import { markCommitted } from '../registry/contents.ts';
import { logEvent } from '../registry/events.ts';
import { replacePlacements } from '../registry/placements.ts';
import { requireOwner, requireRecord, type Caller, type ManagerDeps } from './deps.ts';
import { checkMedia, gatewayMedia } from './media.ts';
import { deleteOnNode } from '../node-client.ts';
import { loadDirectory, readable } from './directory.ts';
import { askReconcile } from './reconcile.ts';

export async function commitUpload(deps: ManagerDeps, caller: Caller, rawMedia?: unknown): Promise<CommitResponse> {
  const { store, env } = deps;
  const record = requireRecord(store);
  requireOwner(record, caller);
  const sent = checkMedia(rawMedia, record.size);
  if (record.state === 'committed') return { id: record.id, version: record.version, committedAt: record.committedAt! };
  if (record.state !== 'uploading') throw new BunsanError('conflict', `content is ${record.state}`);
  // Counted, not listed: a chunk never registered has no row, and only the first missing are named.
  const complete = store.completeCount(record.replicas);
  if (complete < record.chunkCount) {
    throw new BunsanError('upload_incomplete', `${record.chunkCount - complete} of ${record.chunkCount} chunks lack confirmed replicas`,
      { missing: store.incompleteIndices(record.replicas, record.chunkCount, 100) });
  }
  const chunks = store.chunks();
  await collectGarbage(deps);
  const now = deps.now();
  const hashes = chunks.map((c) => c.hash!);
  record.commitStamp = await signStamp(crypto, deps.key, {
    t: 'commit-stamp', c: record.id, v: record.version, at: now, upload: record.stampDigest,
    root: await hashListRoot(crypto, hashes), chunks: hashes.length, size: record.size,
  });
  record.state = 'committed';
  record.committedAt = now;
  const media = sent ?? gatewayMedia(store, record.size);
  store.saveRecord(record);
  store.setMedia('index', media);
  store.setMedia('indexer', null);
  const live = new Set(hashes);
  const sealed = new Map(chunks.map((c) => [c.hash!, c.sealed_len ?? 0]));
  const placements = store.replicas().filter((r) => live.has(r.hash) && r.state === 'stored')
    .map((r) => ({ hash: r.hash, node: r.node_id, bytes: sealed.get(r.hash)! }));
  const stmts = [
    markCommitted(env.DB, record.id, now),
    ...replacePlacements(env.DB, record.id, placements, now),
    logEvent(env.DB, { at: now, kind: 'upload-commit', content: record.id, bytes: record.size, detail: { chunks: hashes.length } }),
  ];
  for (let i = 0; i < stmts.length; i += 500) await env.DB.batch(stmts.slice(i, i + 500));
  // A wandering content starts moving now: its passes follow its chunks' epochs from here on.
  if (record.wander) askReconcile(deps, 'wander');
  return { id: record.id, version: record.version, committedAt: now };
}

/** Replicas left behind by re-sealed chunks, and extra copies beyond the plan, are deleted. */
async function collectGarbage(deps: ManagerDeps): Promise<void> {
  const { store } = deps;
  const record = store.record()!;
  const byNode = new Map<string, string[]>();
  for (const r of store.replicas()) {
    if (r.state === 'stored' && store.chunkByHash(r.hash)) continue;
    byNode.set(r.node_id, [...(byNode.get(r.node_id) ?? []), r.hash]);
  }
  const dir = await loadDirectory(deps.env, deps.now());
  await Promise.all([...byNode].map(async ([nodeId, hashes]) => {
    const node = dir.get(nodeId);
    if (!readable(node)) {
      // A node that is gone holds nothing to delete; on one that is down the rows stay 'deleting'
      // (a live chunk's are retried by reconcile passes; a re-sealed chunk's old hash is not: docs/decisions.md).
      if (!node || node.state === 'retired') for (const h of hashes) store.dropReplica(h, nodeId);
      return;
    }
    try {
      await deleteOnNode(deps, node!, record.id, hashes);
      for (const h of hashes) store.dropReplica(h, nodeId);
    } catch {
      // Unreachable now: the rows stay 'deleting' and the next delete pass retries them.
      for (const h of hashes) store.setReplica(h, nodeId, 'deleting', deps.now());
    }
  }));
}
