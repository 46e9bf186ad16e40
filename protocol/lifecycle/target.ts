// Where a chunk's copies belong: weighted rendezvous over the nodes that keep a place, spread
// over failure domains. Like a CRUSH rule that picks hosts in distinct racks: the best-ranked
// node of each region is taken, in rank order, until there are enough copies or no unused
// region is left; only then does a region get a second copy. With at least `replicas` regions,
// one region going dark takes at most one copy of any chunk. A node joining changes a chunk's
// set only where it ranks in, so it receives about its weight's share and nothing else moves.
import { keyBits, rankNodes, rendezvousScore } from '../placement.ts';
import { keepsPlace, type NodeState } from './node-state.ts';

export interface PlanNode {
  id: string;
  region: string;
  weight: number;
  grade: number;
  state: NodeState;
  /** down past its grace period (or retired): its copies are gone as far as the plan knows */
  lost: boolean;
  /** at or over its capacity: takes no new copy, keeps the ones it has */
  full: boolean;
  /** hash53(id), to rank many chunks fast (optional) */
  seed?: number;
  /** a woken mirror: holds demand copies only, never a chunk's base copies */
  demandOnly?: boolean;
}

export interface TargetOptions {
  replicas: number;
  minGrade: number;
  /** nodes already holding (or receiving) this chunk: a full node keeps its place for them */
  holding?: ReadonlySet<string>;
}

/** May this node be in a chunk's target set at all? */
export function eligible(n: PlanNode, o: TargetOptions): boolean {
  return keepsPlace(n.state, n.lost) && n.grade >= o.minGrade && n.weight > 0 && (!n.full || !!o.holding?.has(n.id));
}

/** May this node hold one of a chunk's base copies (a woken mirror holds demand copies only)? */
export const baseEligible = (n: PlanNode, o: TargetOptions): boolean => eligible(n, o) && !n.demandOnly;

/** Picks `replicas` of the ranked nodes: distinct regions first, in rank order, then the best of the rest. */
export function pickDiverse<N extends { id: string; region: string }>(ranked: N[], replicas: number): N[] {
  const chosen: N[] = [];
  const regions = new Set<string>();
  for (const n of ranked) {
    if (chosen.length >= replicas) break;
    if (!regions.has(n.region)) {
      chosen.push(n);
      regions.add(n.region);
    }
  }
  if (chosen.length < replicas) {
    const taken = new Set(chosen);
    for (const n of ranked) {
      if (chosen.length >= replicas) break;
      if (!taken.has(n)) chosen.push(n);
    }
    // Rank order, so that "best first" holds for callers that try targets in order.
    const at = new Map(ranked.map((n, i) => [n, i]));
    chosen.sort((a, b) => at.get(a)! - at.get(b)!);
  }
  return chosen;
}

/** The same order as rankNodes: higher score first, ties by id. */
const before = (a: { s: number; id: string }, b: { s: number; id: string }) => a.s > b.s || (a.s === b.s && a.id < b.id);

/**
 * The nodes a chunk's copies belong on, best first (fewer than `replicas` when too few are
 * eligible). Exactly pickDiverse(rankNodes(eligible)), without sorting every node: the best few
 * are kept in one pass, and when they span `replicas` regions, or every region there is, the
 * diverse pick cannot reach past them (its first pass takes each region's best, which is among
 * them, and the fill the best of the rest, also among them). Otherwise the full rank.
 */
export function targetNodes(key: string, nodes: Iterable<PlanNode>, o: TargetOptions): string[] {
  const bits = keyBits(key);
  const k = Math.max(o.replicas * 4, 8);
  const top: { n: PlanNode; s: number; id: string }[] = [];
  // Kept for the full rank, should it be needed: `nodes` may be an iterator that runs once.
  const pool: PlanNode[] = [];
  const regions = new Set<string>();
  for (const n of nodes) {
    if (!baseEligible(n, o)) continue;
    pool.push(n);
    regions.add(n.region);
    const score = rendezvousScore(n, bits);
    if (top.length === k) {
      const last = top[k - 1];
      if (score < last.s || (score === last.s && n.id >= last.id)) continue;
    }
    const e = { n, s: score, id: n.id };
    let i = top.length < k ? top.length : k - 1;
    if (top.length < k) top.push(e);
    while (i > 0 && before(e, top[i - 1])) {
      top[i] = top[i - 1];
      i--;
    }
    top[i] = e;
  }
  const spanned = new Set(top.map((e) => e.n.region)).size;
  if (pool.length > top.length && spanned < o.replicas && spanned < regions.size) {
    return pickDiverse(rankNodes(key, pool), o.replicas).map((n) => n.id);
  }
  return pickDiverse(top.map((e) => e.n), o.replicas).map((n) => n.id);
}
