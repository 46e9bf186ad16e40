// What one chunk needs, from where its copies are and where they belong: copies to make, copies
// to check, surplus copies to delete, and copies to forget (on nodes that are gone). Pure: the
// managers run it on every reconcile, the property tests and the simulation run it at scale.
//
// The rule that keeps data safe: a copy is deleted only when the chunk's target nodes that are
// up already hold `replicas` verified copies without it. A copy is never deleted to make room
// for one that has not been verified, so no step lowers the number of verified copies.
import { serves, takesCopies } from './node-state.ts';
import { baseEligible, pickDiverse, targetNodes, type PlanNode } from './target.ts';
import { wanderTarget, type WanderInput } from './wander.ts';
import { rankNodes } from '../placement.ts';

/**
 * A manager's record of one copy: `stored` (verified on the node), `pending` (an upload or a copy
 * on its way, not yet verified), `suspect` (was verified, but its node has been down since:
 * checked again before it is served), `deleting` (leaving: no longer served).
 */
export type CopyState = 'stored' | 'pending' | 'suspect' | 'deleting';
export interface Holder { node: string; state: CopyState }

export interface ChunkPlanInput {
  key: string;
  replicas: number;
  minGrade: number;
  holders: Holder[];
  /** the directory, by id; a holder on a node it does not list is on a node that is gone */
  nodes: Map<string, PlanNode>;
  /** random placement: keep where copies are, draw the shortfall (rendezvous when absent) */
  draw?: (n: number) => number;
  /**
   * Copies beyond the base target, for demand (protocol/demand/): given the base target and the
   * nodes holding a copy, where the extra copies go. They are made like any other copy and, once
   * no longer wanted, deleted like any surplus: never while the base is short.
   */
  extra?: (base: string[], holding: ReadonlySet<string>) => string[];
  /** wandering placement (wander.ts): the target changes every period; takes precedence over `draw` */
  wander?: WanderInput;
}

export type DeleteWhy = 'surplus' | 'drained' | 'abandoned' | 'replaced' | 'wander';
export type DropWhy = 'node-lost' | 'node-retired' | 'node-unknown';

export interface ChunkPlan {
  /** the base target (`replicas` nodes), then the extra copies' nodes */
  target: string[];
  /** how many of `target` are extra (demand) copies, at its end */
  extra: number;
  /** copies to make: to a target node that lacks one, from any verified copy on a node that serves */
  copies: { to: string; from: string[] }[];
  /** copies to verify on their node before they count again */
  checks: string[];
  /** copies to delete on their node, and why */
  deletes: { node: string; why: DeleteWhy }[];
  /** copies to forget without asking their node, which is gone */
  drops: { node: string; why: DropWhy }[];
  /** verified copies on nodes that are up and serve */
  serving: number;
  /** target nodes that lack a copy but cannot take one now (down within their grace period) */
  waiting: string[];
}

const up = (n: PlanNode | undefined) => !!n && serves(n.state);

export function planChunk(input: ChunkPlanInput): ChunkPlan {
  const { nodes, replicas } = input;
  const plan: ChunkPlan = { target: [], extra: 0, copies: [], checks: [], deletes: [], drops: [], serving: 0, waiting: [] };
  const live: Holder[] = [];
  for (const h of input.holders) {
    const n = nodes.get(h.node);
    if (!n) plan.drops.push({ node: h.node, why: 'node-unknown' });
    else if (n.state === 'retired') plan.drops.push({ node: h.node, why: 'node-retired' });
    else if (n.lost) plan.drops.push({ node: h.node, why: 'node-lost' });
    else live.push(h);
  }
  const state = new Map(live.map((h) => [h.node, h.state]));
  const holding = new Set(live.filter((h) => h.state !== 'deleting').map((h) => h.node));
  const opts = { replicas, minGrade: input.minGrade, holding };
  plan.target = input.wander ? wanderTarget(input.key, nodes.values(), opts, input.wander)
    : input.draw ? drawTarget(input, opts) : targetNodes(input.key, nodes.values(), opts);
  if (input.extra) {
    const base = new Set(plan.target);
    const more = input.extra(plan.target, holding).filter((id) => !base.has(id) && nodes.has(id));
    plan.extra = more.length;
    plan.target.push(...more);
  }
  const inTarget = new Set(plan.target);

  const verified = (id: string) => state.get(id) === 'stored';
  const sources = live.filter((h) => h.state === 'stored' && up(nodes.get(h.node))).map((h) => h.node);
  plan.serving = sources.length;
  // Copies leave draining nodes first: those nodes are emptying anyway and their reads are spare.
  sources.sort((a, b) => Number(nodes.get(b)!.state === 'draining') - Number(nodes.get(a)!.state === 'draining'));

  for (const id of plan.target) {
    const n = nodes.get(id)!;
    const s = state.get(id);
    if (s === 'stored') continue;
    // Found bad (an audit) or left over: the old copy goes before a new one is written there.
    if (s === 'deleting') {
      if (up(n)) plan.deletes.push({ node: id, why: 'replaced' });
      continue;
    }
    if (s === 'suspect') {
      if (up(n)) plan.checks.push(id);
      continue;
    }
    // A down node keeps its place for its grace period but cannot receive; it waits.
    if (!takesCopies(n.state)) {
      plan.waiting.push(id);
      continue;
    }
    if (sources.length === 0) continue;
    plan.copies.push({ to: id, from: sources.filter((s) => s !== id) });
  }
  const safe = plan.target.filter((id) => verified(id) && up(nodes.get(id))).length >= replicas;
  // Outside the target a suspect copy is worth checking only while the chunk is short of copies.
  if (!safe) {
    for (const h of live) {
      if (h.state === 'suspect' && !inTarget.has(h.node) && up(nodes.get(h.node))) plan.checks.push(h.node);
    }
  }
  for (const h of live) {
    if (inTarget.has(h.node) || !up(nodes.get(h.node))) continue;
    if (h.state === 'deleting') plan.deletes.push({ node: h.node, why: 'surplus' });
    // An upload or copy that went to a node no longer in the target: whatever arrived goes.
    else if (h.state === 'pending') plan.deletes.push({ node: h.node, why: 'abandoned' });
    else if (safe && (h.state === 'stored' || h.state === 'suspect')) {
      plan.deletes.push({ node: h.node, why: nodes.get(h.node)!.state === 'draining' ? 'drained' : input.wander ? 'wander' : 'surplus' });
    }
  }
  return plan;
}

/**
 * Random placement: copies stay where they are while their node keeps its place; the shortfall
 * is drawn uniformly, from regions not yet used while there are any.
 */
function drawTarget(input: ChunkPlanInput, opts: { replicas: number; minGrade: number; holding: Set<string> }): string[] {
  const pool = [...input.nodes.values()].filter((n) => baseEligible(n, opts));
  const out = pickDiverse(rankNodes(input.key, pool.filter((n) => opts.holding.has(n.id))), opts.replicas);
  let rest = pool.filter((n) => !out.includes(n));
  while (out.length < opts.replicas && rest.length > 0) {
    const used = new Set(out.map((n) => n.region));
    const fresh = rest.filter((n) => !used.has(n.region));
    const from = fresh.length > 0 ? fresh : rest;
    const pick = from[input.draw!(from.length)];
    out.push(pick);
    rest = rest.filter((n) => n !== pick);
  }
  return out.map((n) => n.id);
}
