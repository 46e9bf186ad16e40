// A wandering content as its manager runs it: the planner's wander input from the record, and
// how often the manager looks at its chunks' epochs (protocol/lifecycle/wander.ts).
import type { WanderInput } from '../../protocol/lifecycle/wander.ts';
import type { ContentRecord } from './store.ts';

export const wanderInput = (record: ContentRecord, now: number): WanderInput | undefined =>
  record.wander ? { periodMs: record.wander.periodMs, salt: record.wander.salt, now } : undefined;

/**
 * The least time between two passes of a wandering content. A chunk moves at the first pass
 * after its epoch ends, so a node holds it at most a period plus this plus a pass; with many
 * chunks an epoch ends every few milliseconds, and a pass each time would never stop.
 */
export const wanderGapMs = (record: ContentRecord): number => Math.max(1_000, Math.floor((record.wander?.periodMs ?? 0) / 8));
