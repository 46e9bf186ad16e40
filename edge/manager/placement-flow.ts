// Registering sealed chunks (placement + upload tokens) and confirming replicas with the nodes.
import type { ConfirmResponse, RegisterChunksRequest, RegisterChunksResponse, UploadTarget } from '../../protocol/api.ts';
import { SEAL_OVERHEAD } from '../../protocol/chunk-crypto.ts';
import { BunsanError } from '../../protocol/errors.ts';
import { planChunk } from '../../protocol/lifecycle/plan.ts';
import { uniformInt } from '../../protocol/placement.ts';
import { expiresIn, issueToken, TOKEN_TTL } from '../../protocol/tokens.ts';
import { checkOnNode } from '../node-client.ts';
import { requireOwner, requireRecord, type Caller, type ManagerDeps } from './deps.ts';
import { loadDirectory, uploadDirectory, type Directory } from './directory.ts';
import { plannedChunks } from './chunk-plan.ts';
import type { ContentRecord } from './store.ts';
import { wanderInput } from './wander.ts';

function requireUploading(record: ContentRecord): void {
  if (record.state !== 'uploading') throw new BunsanError('conflict', `content is ${record.state}, not open for upload`);
}

export async function registerChunks(deps: ManagerDeps, caller: Caller, body: RegisterChunksRequest): Promise<RegisterChunksResponse> {
  const { store } = deps;
  const record = requireRecord(store);
  requireOwner(record, caller);
  requireUploading(record);
  const now = deps.now();
  const dir = uploadDirectory(await loadDirectory(deps.env, now));
  const out: RegisterChunksResponse['chunks'] = [];
  // Validate the whole batch before changing anything: bad input changes nothing.
  const planned = await plannedChunks(store, record, body.chunks.map((c) => c.index));
  const rows = body.chunks.map((c) => {
    const row = planned.get(c.index);
    if (!row) throw new BunsanError('invalid_body', `chunk ${c.index} is outside the plan of ${record.chunkCount} chunks`);
    if (c.sealedLength !== row.len + SEAL_OVERHEAD) throw new BunsanError('invalid_body', `chunk ${c.index} must seal to ${row.len + SEAL_OVERHEAD} bytes`);
    const other = store.chunkByHash(c.hash);
    if (other && other.idx !== c.index) throw new BunsanError('conflict', `hash of chunk ${c.index} is already chunk ${other.idx}`);
    if (row.hash && row.hash !== c.hash && store.storedCount(row.hash) >= record.replicas) {
      throw new BunsanError('conflict', `chunk ${c.index} is already stored under another hash`);
    }
    return { c, row };
  });
  for (const { c, row } of rows) {
    if (row.hash && row.hash !== c.hash) {
      // A resumed upload re-sealed this chunk: the old copies become garbage to collect at commit.
      for (const r of store.replicas(row.hash)) store.setReplica(row.hash, r.node_id, 'deleting', now);
    }
    store.setChunkHash(row, c.hash, c.sealedLength);
    const have = new Map(store.replicas(c.hash).map((r) => [r.node_id, r.state]));
    const wanted = chooseNodes(record, dir, c.hash, [...have].filter(([, s]) => s !== 'deleting').map(([n]) => n), now);
    const targets: UploadTarget[] = [];
    for (const nodeId of wanted) {
      if (have.get(nodeId) === 'stored') continue;
      store.setReplica(c.hash, nodeId, 'pending', now);
      const node = dir.get(nodeId)!;
      const token = await issueToken(crypto, deps.key, {
        t: 'put', c: record.id, v: record.version, n: nodeId, h: c.hash, s: record.stampDigest, exp: expiresIn(now, TOKEN_TTL.put),
      });
      targets.push({ node: nodeId, url: node.url, token });
    }
    out.push({ index: c.index, hash: c.hash, targets });
  }
  return { chunks: out };
}

/**
 * Where a chunk goes: the target the reconciling manager will keep it on (weighted rendezvous
 * over failure domains, stable: a retry lands on the same nodes), or a CSPRNG draw among the
 * eligible nodes, or a wandering content's target for the chunk's current epoch; a drawn placement is recorded per chunk like any other, and a retry keeps the
 * nodes already drawn.
 */
function chooseNodes(record: ContentRecord, dir: Directory, hash: string, current: string[], now: number): string[] {
  const draw = record.placement === 'random' ? (n: number) => uniformInt((a) => crypto.getRandomValues(a), n) : undefined;
  return planChunk({
    key: hash, replicas: record.replicas, minGrade: record.minGrade ?? 0, nodes: dir, draw, wander: wanderInput(record, now),
    holders: current.map((node) => ({ node, state: 'pending' })),
  }).target;
}

/** Asks each node which of the pending replicas it really holds, under this content and stamp. */
export async function confirmChunks(deps: ManagerDeps, caller: Caller, hashes: string[]): Promise<ConfirmResponse> {
  const { store } = deps;
  const record = requireRecord(store);
  requireOwner(record, caller);
  requireUploading(record);
  const rows = hashes.map((h) => {
    const row = store.chunkByHash(h);
    if (!row) throw new BunsanError('invalid_body', `hash ${h} is not a registered chunk of this upload`);
    return row;
  });
  const byNode = new Map<string, string[]>();
  for (const row of rows) {
    for (const r of store.replicas(row.hash!)) {
      if (r.state !== 'pending') continue;
      byNode.set(r.node_id, [...(byNode.get(r.node_id) ?? []), row.hash!]);
    }
  }
  const now = deps.now();
  const dir = await loadDirectory(deps.env, now);
  await Promise.all([...byNode].map(async ([nodeId, list]) => {
    const node = dir.get(nodeId);
    if (!node) return;
    const held = await checkOnNode(deps, node, record.id, list).catch((err: Error) => {
      // The replicas stay pending and are reported missing; the uploader sends them again.
      console.warn(`check on ${nodeId} failed: ${err.message}`);
      return [];
    });
    for (const h of held) {
      const row = store.chunkByHash(h.hash);
      if (row && h.content === record.id && h.stamp === record.stampDigest && h.size === row.sealed_len) {
        store.setReplica(h.hash, nodeId, 'stored', now);
      }
    }
  }));
  const stored: number[] = [];
  const missing: ConfirmResponse['missing'] = [];
  for (const row of rows) {
    const reps = store.replicas(row.hash!);
    const ok = reps.filter((r) => r.state === 'stored').length >= record.replicas;
    if (ok) stored.push(row.idx);
    else missing.push({ index: row.idx, hash: row.hash!, nodes: reps.filter((r) => r.state === 'pending').map((r) => r.node_id) });
  }
  return { stored, missing };
}
