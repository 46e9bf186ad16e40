// The manager keeps its own content whole: on its alarm it walks its chunks a slice at a time,
// plans each one against the registry's directory as it is now (protocol/lifecycle/plan.ts),
// and carries the plan out in the order that never lowers the number of verified copies:
//   forget copies on nodes that are gone → check copies on nodes back from down → copy to the
//   nodes that lack one (copy, verify, record) → delete surplus copies (record, then delete).
// At the end of a pass it tells the registry what is still left to do per node, and when the
// pass started, so that the sweep knows when a node has its share or is empty.
import { planChunk, type ChunkPlan, type Holder } from '../../protocol/lifecycle/plan.ts';
import { wanderEpochEnd } from '../../protocol/lifecycle/wander.ts';
import { uniformInt } from '../../protocol/placement.ts';
import { markReconciled } from '../registry/contents.ts';
import { logEvent, type EventInput } from '../registry/events.ts';
import { putPlacement, removePlacement } from '../registry/placements.ts';
import { NO_WORK, replaceWork, type WorkCounts } from '../registry/work.ts';
import { checkOnNode, deleteOnNode } from '../node-client.ts';
import { copyChunk } from './copy.ts';
import { extraFor, planNodesFor } from './demand.ts';
import { downGraceMs, loadDirectory, readable, type Directory } from './directory.ts';
import { seconds } from '../vars.ts';
import type { ManagerDeps } from './deps.ts';
import type { PlanNode } from '../../protocol/lifecycle/target.ts';
import type { ChunkRow, ContentRecord, ReplicaRow } from './store.ts';
import { wanderGapMs, wanderInput } from './wander.ts';

/** What the manager keeps between alarms about its reconciling. */
export interface ReconcileState {
  /** when the next slice should run (null: nothing asked) */
  due: number | null;
  /** a pass under way: where it is, and the work it has counted so far */
  pass: {
    startedAt: number; cursor: number; verify: boolean; work: Record<string, WorkCounts>;
    /** copies made, and steps that failed (a node that did not answer, a copy that did not verify) */
    copies: number; failed: number;
    /** when a gate said a node has room again; when a down node's grace period ends */
    busyAt?: number; wakeAt?: number;
    /** a wandering content: when the first of its chunks' epochs ends (its target changes) */
    wanderAt?: number;
  } | null;
  /** asked again while a pass ran: another pass follows */
  again: boolean;
  /** passes in a row that ended with work left, failures and no progress: the back-off grows with it */
  stalled: number;
  /** when every copy is next checked on its node */
  verifyAt: number;
  reason: string;
}

const KEY = 'reconcile';
/** Copies one manager runs at once (each node's gate bounds the network as a whole). */
const PARALLEL_COPIES = 4;

export const reconcileState = (deps: ManagerDeps): ReconcileState =>
  deps.store.meta<ReconcileState>(KEY) ?? { due: null, pass: null, again: false, stalled: 0, verifyAt: 0, reason: '' };

/** Asks for a pass (or another one, after the one under way). `verify`: check every copy on its node. */
export function askReconcile(deps: ManagerDeps, reason: string, verify = false): void {
  const s = reconcileState(deps);
  const now = deps.now();
  if (s.pass) s.again = true;
  s.due = Math.min(s.due ?? now, now);
  s.reason = reason;
  if (verify) s.verifyAt = 0;
  deps.store.setMeta(KEY, s);
}

/** A slice that failed (the registry unreachable, say) is tried again after `ms`, not in a loop. */
export function deferReconcile(deps: ManagerDeps, ms: number): void {
  const s = reconcileState(deps);
  if (s.due !== null) s.due = deps.now() + ms;
  deps.store.setMeta(KEY, s);
}

/** Chunks per slice: ranking a chunk costs one mix per node, so big directories get smaller slices. */
const sliceSize = (nodes: number) => Math.max(64, Math.min(4096, Math.floor(400_000 / Math.max(1, nodes))));

function holdersOf(rows: ReplicaRow[], dir: Directory): Holder[] {
  return rows.map((r) => {
    const n = dir.get(r.node_id);
    const suspect = r.state === 'stored' && !!n && r.verified_at < n.recoveredAt;
    return { node: r.node_id, state: suspect ? 'suspect' : r.state };
  });
}

interface Slice {
  deps: ManagerDeps;
  /** when the slice started: every plan of the slice sees one wander epoch per chunk */
  at: number;
  record: ContentRecord;
  dir: Directory;
  chunks: ChunkRow[];
  events: EventInput[];
  d1: D1PreparedStatement[];
  /** a chunk's copies beyond its base, as demand wants them now */
  extra: ReturnType<typeof extraFor>;
  /** the directory as this content's plans rank it (hot nodes shed a hot content's copies) */
  ranked: Map<string, PlanNode>;
}

function planOf(s: Slice, chunk: ChunkRow): ChunkPlan {
  const draw = s.record.placement === 'random' ? (n: number) => uniformInt((a) => crypto.getRandomValues(a), n) : undefined;
  return planChunk({
    key: chunk.hash!, replicas: s.record.replicas, minGrade: s.record.minGrade ?? 0, nodes: s.ranked, draw,
    wander: wanderInput(s.record, s.at),
    holders: holdersOf(s.deps.store.replicas(chunk.hash!), s.dir), extra: s.extra(chunk),
  });
}

const event = (s: Slice, kind: string, node: string, chunk: ChunkRow, detail: Record<string, unknown>) => s.events.push({
  at: s.deps.now(), kind, content: s.record.id, node, bytes: chunk.sealed_len ?? undefined, detail: { index: chunk.idx, hash: chunk.hash, ...detail },
});

/** Copies on nodes that are gone are forgotten (their bytes cannot be reached to delete). */
function forget(s: Slice, chunk: ChunkRow, plan: ChunkPlan): void {
  for (const d of plan.drops) {
    s.deps.store.dropReplica(chunk.hash!, d.node);
    s.d1.push(removePlacement(s.deps.env.DB, s.record.id, chunk.hash!, d.node));
    event(s, 'replica-lost', d.node, chunk, { why: d.why });
  }
}

/** Copies on nodes back from down (or all copies, on a verifying pass) are asked for, node by node, in batches. */
async function check(s: Slice, wanted: Map<string, ChunkRow[]>): Promise<number> {
  const { deps, record } = s;
  let failed = 0;
  await Promise.all([...wanted].map(async ([nodeId, chunks]) => {
    const node = s.dir.get(nodeId);
    if (!readable(node)) return;
    const held = await checkOnNode(deps, node!, record.id, chunks.map((c) => c.hash!)).catch(() => null);
    if (!held) {
      failed++; // unreachable now: the copies stay as they are, and the work is counted
      return;
    }
    const ok = new Set(held.filter((h) => h.content === record.id && h.stamp === record.stampDigest).map((h) => `${h.hash}:${h.size}`));
    for (const c of chunks) {
      if (ok.has(`${c.hash}:${c.sealed_len}`)) {
        deps.store.setReplica(c.hash!, nodeId, 'stored', deps.now());
        s.d1.push(putPlacement(deps.env.DB, { content: record.id, hash: c.hash!, node: nodeId, bytes: c.sealed_len!, at: deps.now() }));
      } else {
        deps.store.dropReplica(c.hash!, nodeId);
        s.d1.push(removePlacement(deps.env.DB, record.id, c.hash!, nodeId));
        event(s, 'replica-lost', nodeId, c, { why: 'missing-on-check' });
      }
    }
  }));
  return failed;
}

function copyReason(s: Slice, plan: ChunkPlan, chunk: ChunkRow, to: string): string {
  if (plan.serving < s.record.replicas) return 'repair';
  if (plan.target.indexOf(to) >= plan.target.length - plan.extra) return 'demand';
  if (s.deps.store.replicas(chunk.hash!).some((r) => s.dir.get(r.node_id)?.state === 'draining')) return 'drain';
  if (s.record.wander) return 'wander';
  return s.dir.get(to)?.state === 'joining' ? 'join' : 'rebalance';
}

/** Makes the slice's missing copies, a few at a time; returns how soon to try what had to wait. */
async function copy(s: Slice, live: () => boolean): Promise<{ copied: number; failed: number; retryInMs: number | null }> {
  const jobs = s.chunks.flatMap((chunk) => {
    const plan = planOf(s, chunk);
    return plan.copies.map((c) => ({ chunk, plan, to: c.to, from: c.from }));
  });
  let copied = 0;
  let failed = 0;
  let retryInMs: number | null = null;
  let next = 0;
  const worker = async () => {
    while (next < jobs.length && live()) {
      const j = jobs[next++];
      const to = s.dir.get(j.to)!;
      const sources = j.from.map((id) => s.dir.get(id)!).filter(readable);
      s.deps.store.setReplica(j.chunk.hash!, to.id, 'pending', s.deps.now());
      const r = await copyChunk(s.deps, s.record, j.chunk, to, sources);
      if (!live()) {
        // Removed while the copy was on its way: the removal may not have seen it, so it goes now.
        await deleteOnNode(s.deps, to, s.record.id, [j.chunk.hash!]).catch(() => {});
        return;
      }
      if (r.done) {
        s.deps.store.setReplica(j.chunk.hash!, to.id, 'stored', s.deps.now());
        s.d1.push(putPlacement(s.deps.env.DB, { content: s.record.id, hash: j.chunk.hash!, node: to.id, bytes: j.chunk.sealed_len!, at: s.deps.now() }));
        event(s, 'replica-copied', to.id, j.chunk, { from: r.from, reason: copyReason(s, j.plan, j.chunk, to.id), relayed: r.relayed });
        copied++;
      } else if (r.why === 'busy') {
        retryInMs = Math.min(retryInMs ?? Infinity, r.retryInMs ?? 1000);
      } else {
        failed++;
      }
    }
  };
  await Promise.all(Array.from({ length: PARALLEL_COPIES }, worker));
  return { copied, failed, retryInMs };
}

/** Deletes the slice's surplus copies: out of the index and the manifests first, then off their nodes. Returns the nodes that failed. */
async function prune(s: Slice): Promise<number> {
  let failed = 0;
  const byNode = new Map<string, { chunk: ChunkRow; why: string }[]>();
  for (const chunk of s.chunks) {
    for (const d of planOf(s, chunk).deletes) {
      s.deps.store.setReplica(chunk.hash!, d.node, 'deleting', s.deps.now());
      s.d1.push(removePlacement(s.deps.env.DB, s.record.id, chunk.hash!, d.node));
      byNode.set(d.node, [...(byNode.get(d.node) ?? []), { chunk, why: d.why }]);
    }
  }
  await flush(s);
  await Promise.all([...byNode].map(async ([nodeId, list]) => {
    const node = s.dir.get(nodeId);
    if (!readable(node)) return;
    const gone = await deleteOnNode(s.deps, node!, s.record.id, list.map((x) => x.chunk.hash!)).catch(() => null);
    if (!gone) {
      failed++; // the copies stay 'deleting' (served by nobody) and the next pass retries
      return;
    }
    for (const x of list) {
      s.deps.store.dropReplica(x.chunk.hash!, nodeId);
      event(s, 'replica-deleted', nodeId, x.chunk, { why: x.why });
    }
  }));
  return failed;
}

async function flush(s: Slice): Promise<void> {
  const stmts = [...s.d1, ...s.events.map((e) => logEvent(s.deps.env.DB, e))];
  s.d1 = [];
  s.events = [];
  for (let i = 0; i < stmts.length; i += 100) await s.deps.env.DB.batch(stmts.slice(i, i + 100));
}

/**
 * What each node is still owed or owes for this slice, added into the pass's count. Returns the
 * count, and the earliest time a copy now waiting for a down node can go elsewhere instead (its
 * grace period ends: the manager looks again then, without being asked).
 */
function countWork(s: Slice, work: Record<string, WorkCounts>): { total: number; wakeAt: number | null } {
  let total = 0;
  let wakeAt: number | null = null;
  const grace = downGraceMs(s.deps.env);
  const add = (node: string, k: keyof WorkCounts) => {
    work[node] = { ...(work[node] ?? NO_WORK) };
    work[node][k]++;
    total++;
  };
  for (const chunk of s.chunks) {
    const plan = planOf(s, chunk);
    for (const c of plan.copies) {
      add(c.to, 'copiesIn');
      if (c.from[0]) add(c.from[0], 'copiesOut');
    }
    for (const d of plan.deletes) add(d.node, 'deletes');
    for (const n of plan.checks) add(n, 'checks');
    for (const n of plan.waiting) {
      add(n, 'copiesIn');
      const until = s.dir.get(n)!.stateSince + grace + 1_000;
      wakeAt = Math.min(wakeAt ?? until, until);
    }
    // A copy stuck for want of a source or a target is work too (a drain that cannot finish).
    if (plan.copies.length === 0 && plan.target.length < s.record.replicas) {
      for (const r of s.deps.store.replicas(chunk.hash!)) if (s.dir.get(r.node_id)?.state === 'draining') add(r.node_id, 'copiesOut');
    }
  }
  return { total, wakeAt };
}

/**
 * Runs one slice of the pass (starting a pass if none is under way). Returns when the manager
 * should run again (null: nothing more to do until asked).
 */
export async function reconcileSlice(deps: ManagerDeps): Promise<number | null> {
  const { store } = deps;
  const record = store.record();
  const state = reconcileState(deps);
  if (!record || record.state !== 'committed' || state.due === null) return null;
  const live = () => store.record()?.state === 'committed';
  const now = deps.now();
  const dir = await loadDirectory(deps.env, now);
  if (!state.pass) {
    const verify = state.verifyAt <= now;
    state.pass = { startedAt: now, cursor: 0, verify, work: {}, copies: 0, failed: 0 };
    state.again = false;
    if (verify) state.verifyAt = now + seconds(deps.env.VERIFY_EVERY_SECONDS, 86_400) * 1000;
  }
  const pass = state.pass;
  const chunks = store.chunkSlice(pass.cursor, sliceSize(dir.size));
  const s: Slice = { deps, at: now, record, dir, chunks, events: [], d1: [], extra: extraFor(deps, record, dir), ranked: planNodesFor(deps, record, dir) };

  // One plan serves both: forgetting copies on nodes that are gone changes no check.
  const toCheck = new Map<string, ChunkRow[]>();
  for (const chunk of chunks) {
    const plan = planOf(s, chunk);
    forget(s, chunk, plan);
    const names = pass.verify
      ? store.replicas(chunk.hash!).filter((r) => r.state === 'stored' && readable(dir.get(r.node_id))).map((r) => r.node_id)
      : plan.checks;
    for (const n of names) toCheck.set(n, [...(toCheck.get(n) ?? []), chunk]);
  }
  pass.failed += await check(s, toCheck);
  await flush(s);
  const { copied, failed, retryInMs } = await copy(s, live);
  pass.copies += copied;
  pass.failed += failed;
  if (retryInMs !== null) pass.busyAt = Math.min(pass.busyAt ?? Infinity, deps.now() + retryInMs);
  await flush(s);
  if (live()) pass.failed += await prune(s);
  await flush(s);
  if (!live()) return null;
  const { total: left, wakeAt } = countWork(s, pass.work);
  if (wakeAt !== null) pass.wakeAt = Math.min(pass.wakeAt ?? wakeAt, wakeAt);
  const w = wanderInput(record, now);
  for (const chunk of w ? chunks : []) pass.wanderAt = Math.min(pass.wanderAt ?? Infinity, wanderEpochEnd(chunk.hash!, w!));

  pass.cursor += chunks.length;
  const current = reconcileState(deps); // asked again while this slice ran?
  state.again ||= current.again;
  state.reason = current.reason;
  if (pass.cursor < record.chunkCount) {
    state.due = deps.now();
    store.setMeta(KEY, state);
    return state.due;
  }
  // The pass is over: the registry learns what is left per node and that this pass ran.
  const work = new Map(Object.entries(pass.work).filter(([, w]) => w.copiesIn + w.copiesOut + w.deletes + w.checks > 0));
  await deps.env.DB.batch([...replaceWork(deps.env.DB, record.id, work, deps.now()), markReconciled(deps.env.DB, record.id, pass.startedAt)]);
  const unfinished = work.size > 0 || left > 0;
  state.pass = null;
  const progressed = pass.copies > 0;
  state.stalled = !unfinished || progressed ? 0 : pass.failed > 0 ? state.stalled + 1 : state.stalled;
  // Work left: a pass that made progress goes on soon; a full gate is tried when it has room; a
  // copy waiting for a down node when its grace period ends; failures after a back-off that grows
  // while nothing gets done, up to five minutes; work nothing can act on now (a drain with
  // nowhere to go) is looked at again in a minute.
  const now2 = deps.now();
  const when: number[] = [];
  if (unfinished) {
    if (progressed) when.push(now2 + 1_000);
    if (pass.busyAt !== undefined) when.push(pass.busyAt);
    if (pass.wakeAt !== undefined) when.push(Math.max(now2, pass.wakeAt));
    if (pass.failed > 0) when.push(now2 + Math.min(300_000, 2_000 * 2 ** Math.min(state.stalled, 8)));
    if (when.length === 0) when.push(now2 + 60_000);
  }
  // A wandering content looks again when the first of its chunks' epochs ends, never sooner than
  // its gap after this pass.
  if (pass.wanderAt !== undefined) when.push(Math.max(pass.wanderAt, now2 + wanderGapMs(record)));
  state.due = state.again ? now2 : when.length ? Math.min(...when) : null;
  store.setMeta(KEY, state);
  return state.due;
}
