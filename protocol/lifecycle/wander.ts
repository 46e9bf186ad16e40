// Wandering placement (source document [0074]-[0077], "moving servers as a security measure"):
// a content uploaded with a wander period keeps moving. Each chunk's time is cut into epochs of
// that period, shifted by a phase drawn from the chunk, so the chunks of one content move spread
// over the period, a few at a time. In each epoch the chunk belongs on a different set of nodes;
// the planner (plan.ts) moves it there copy-then-delete like any other change of target.
//
// Consecutive targets are disjoint wherever the nodes allow it, without remembering any past:
// odd epochs take the plain region-diverse rendezvous pick for their epoch; even epochs take
// the same pick over the nodes neither odd neighbour picked. So no node keeps a chunk two
// periods running (the suggestion "exclude the previous epoch's pick" would need the previous
// target, which excluded its own predecessor, and so on back to the first epoch).
import { hash53, rankNodes } from '../placement.ts';
import { baseEligible, pickDiverse, type PlanNode, type TargetOptions } from './target.ts';

export interface WanderInput {
  periodMs: number;
  now: number;
  /**
   * The content's own random salt, kept by its manager: where a chunk goes next cannot be
   * worked out from its address and the public directory alone.
   */
  salt: string;
}

/**
 * The rank key of a chunk in one epoch. It starts with a letter that is not a hex digit: a key
 * that starts with 13 hex digits is ranked by those digits alone (keyBits), which would make
 * every epoch of a chunk rank the same.
 */
const epochKey = (key: string, salt: string, epoch: number) => `w:${salt}:${key}:${epoch}`;

/** Where in the period this chunk's epochs start: uniform over [0, period) per chunk. */
export function wanderPhase(key: string, w: Pick<WanderInput, 'periodMs' | 'salt'>): number {
  return Math.floor((hash53(`phase:${w.salt}:${key}`) / 2 ** 53) * w.periodMs);
}

export function wanderEpoch(key: string, w: WanderInput): number {
  return Math.floor((w.now + wanderPhase(key, w)) / w.periodMs);
}

/** When this chunk's current epoch ends (ms): its target changes then. */
export function wanderEpochEnd(key: string, w: WanderInput): number {
  return (wanderEpoch(key, w) + 1) * w.periodMs - wanderPhase(key, w);
}

/** The target of a wandering chunk now, best first (fewer than `replicas` when too few are eligible). */
export function wanderTarget(key: string, nodes: Iterable<PlanNode>, o: TargetOptions, w: WanderInput): string[] {
  const pool = [...nodes].filter((n) => baseEligible(n, o));
  const e = wanderEpoch(key, w);
  const pick = (epoch: number) => pickDiverse(rankNodes(epochKey(key, w.salt, epoch), pool), o.replicas);
  if (e % 2 === 1) return pick(e).map((n) => n.id);
  const before = new Set(pick(e - 1));
  const after = new Set(pick(e + 1));
  // Fresh nodes first; where they do not cover enough nodes or regions, next epoch's nodes
  // before the previous one's (those have held the chunk for a period already).
  const ranked = rankNodes(epochKey(key, w.salt, e), pool);
  const order = [
    ...ranked.filter((n) => !before.has(n) && !after.has(n)),
    ...ranked.filter((n) => after.has(n) && !before.has(n)),
    ...ranked.filter((n) => before.has(n)),
  ];
  return pickDiverse(order, o.replicas).map((n) => n.id);
}
