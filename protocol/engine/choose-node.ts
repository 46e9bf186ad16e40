// Which replica serves a chunk. Kept in one replaceable function: issue #4 brings hedging and a
// richer ranking (probe timings, history, the manager's hints); the scheduler only needs "the
// best candidate now, or none".
import { isBackedOff, type NodeStats } from './node-stats.ts';

export interface Candidate {
  node: NodeStats;
  /** how often this node already failed this very chunk */
  failures: number;
}

export interface ChooseContext {
  now: number;
  /** requests one node may have in flight */
  perNode: number;
}

export type ChooseNode = (candidates: Candidate[], ctx: ChooseContext) => NodeStats | undefined;

/**
 * Default choice: skip nodes that are backed off or full; prefer replicas that failed this chunk
 * least (so a failed chunk moves to another replica at once), then the earliest expected finish,
 * (requests in flight + 1) / throughput. Nodes not yet measured borrow the best known rate, so
 * each gets tried early rather than starved by a single measured node.
 */
export const chooseNode: ChooseNode = (candidates, { now, perNode }) => {
  let prior = 0;
  for (const c of candidates) prior = Math.max(prior, c.node.rate);
  if (prior === 0) prior = 1;
  let best: Candidate | undefined;
  let bestCost = Infinity;
  for (const c of candidates) {
    if (isBackedOff(c.node, now) || c.node.inFlight >= perNode) continue;
    const cost = (c.node.inFlight + 1) / (c.node.rate || prior);
    if (!best || c.failures < best.failures
      || (c.failures === best.failures && (cost < bestCost || (cost === bestCost && c.node.requests < best.node.requests)))) {
      best = c;
      bestCost = cost;
    }
  }
  return best?.node;
};
