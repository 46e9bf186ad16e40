// Which replica serves a chunk: the one expected to deliver it first, from every signal there
// is. Measured speed (probe timings, every fetch, history from earlier sessions) feeds the
// prediction; for nodes never measured the manager's hints stand in (same region, higher grade),
// and a node the managers recently found serving bad replicas looks slower;
// the user's preferred nodes are favoured; a random tie-break spreads many fresh clients over
// equal nodes. Kept in one replaceable function: the scheduler only needs "the best now".
import { expectedMs, priorsFrom, type Priors } from './estimate.ts';
import { isBackedOff, type NodeStats } from './node-stats.ts';

export interface Candidate {
  node: NodeStats;
  /** how often this node already failed this very chunk */
  failures: number;
  /** bytes still due from this node for requests already sent (this download's queue) */
  queueBytes?: number;
  /** the manifest's node directory entry */
  hint?: NodeHint;
}

/** What the manifest's node directory says about a node. */
export interface NodeHint { region?: string; grade?: number; faults?: number }

export interface ChooseContext {
  now: number;
  /** requests one node may have in flight (the scheduler enforces it; kept for custom choosers) */
  perNode: number;
  /** ciphertext bytes of the chunk */
  bytes?: number;
  priors?: Priors;
  /** node ids the user prefers */
  prefer?: ReadonlySet<string>;
  /** the client's region, compared with the manifest's hints */
  region?: string;
  /** [0, 1); the tie-break */
  random?: () => number;
}

export type ChooseNode = (candidates: Candidate[], ctx: ChooseContext) => NodeStats | undefined;

/** A preferred node wins unless another is expected to be more than twice as fast. */
export const PREFER_WEIGHT = 0.5;
/** Costs within this fraction of each other count as a tie, broken at random. */
export const TIE_JITTER = 0.02;

/** Each recent bad replica makes a node look this much slower, up to FAULT_CAP of them. */
export const FAULT_PENALTY = 0.1;
const FAULT_CAP = 5;

/**
 * Region and grade only stand in for measurements: same region and a higher grade make a fresh
 * node look closer. Recent faults count even for a measured node, since speed says nothing
 * about whether its bytes verify; the penalty is mild because the manager replaces what it finds.
 */
function hintFactor(c: Candidate, region: string | undefined): number {
  if (!c.hint) return 1;
  const faults = 1 + FAULT_PENALTY * Math.min(FAULT_CAP, c.hint.faults ?? 0);
  if (c.node.updatedAt > 0) return faults;
  const grade = Math.max(0, Math.min(9, c.hint.grade ?? 0));
  const near = region && c.hint.region && c.hint.region === region ? 0.8 : 1;
  return near * (1 - 0.02 * grade) * faults;
}

/** The expected finish (ms from now) of the chunk on this candidate, weighted by hints and preference. */
export function candidateCost(c: Candidate, ctx: ChooseContext, priors: Priors): number {
  const base = expectedMs(c.node, ctx.bytes ?? 1 << 20, c.queueBytes ?? 0, priors);
  const pref = ctx.prefer?.has(c.node.id) ? PREFER_WEIGHT : 1;
  const jitter = ctx.random ? 1 + TIE_JITTER * (ctx.random() - 0.5) : 1;
  return base * pref * hintFactor(c, ctx.region) * jitter;
}

/**
 * Default choice: skip nodes that are backed off; prefer replicas that failed this chunk least
 * (so a failed chunk moves to another replica at once), then the lowest cost, then the node
 * asked least. A node at its request limit may still be the best: the scheduler then waits for
 * it rather than give the chunk to a node that would finish later.
 */
export const chooseNode: ChooseNode = (candidates, ctx) => {
  const priors = ctx.priors ?? priorsFrom(candidates.map((c) => c.node));
  let best: Candidate | undefined;
  let bestCost = Infinity;
  for (const c of candidates) {
    if (isBackedOff(c.node, ctx.now)) continue;
    const cost = candidateCost(c, ctx, priors);
    if (!best || c.failures < best.failures
      || (c.failures === best.failures && (cost < bestCost || (cost === bestCost && c.node.requests < best.node.requests)))) {
      best = c;
      bestCost = cost;
    }
  }
  return best?.node;
};
