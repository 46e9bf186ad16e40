// Bytes a node hands out to viewers, counted in memory and taken by the sweep in one batch:
// demand is measured without a write per chunk request (the source document's access counts and
// traffic, claim 4). Copies between nodes are not viewers' demand and are not counted here.
//
// A Worker node keeps one tally per isolate, so on a platform that runs several isolates of one
// node each answers for its own requests only: the sweep then sees part of the node's traffic
// (docs/decisions.md, "Demand").
import type { Context } from 'hono';
import { BunsanError } from '../../protocol/errors.ts';
import { requireMgmt } from './auth.ts';
import type { NodeHono } from './deps.ts';

/** More contents than this in one interval are folded into "other": the answer stays small. */
const MAX_CONTENTS = 2000;

export interface ServedReading {
  node: string;
  /** when this process started counting, and the bytes it has handed out since */
  since: number;
  total: number;
  /** the interval this reading covers (from the previous take) and its bytes per content */
  from: number;
  at: number;
  contents: Record<string, number>;
  /** bytes of contents beyond MAX_CONTENTS in this interval */
  other: number;
}

export class ServedTally {
  private total = 0;
  private from: number;
  private contents = new Map<string, number>();
  private other = 0;

  constructor(private readonly since: number) {
    this.from = since;
  }

  add(bytes: number, content: string): void {
    this.total += bytes;
    const had = this.contents.get(content);
    if (had !== undefined) this.contents.set(content, had + bytes);
    else if (this.contents.size < MAX_CONTENTS) this.contents.set(content, bytes);
    else this.other += bytes;
  }

  /** The interval's counts, and a new interval from `now`. */
  take(node: string, now: number): ServedReading {
    const r: ServedReading = {
      node, since: this.since, total: this.total, from: this.from, at: now,
      contents: Object.fromEntries(this.contents), other: this.other,
    };
    this.contents = new Map();
    this.other = 0;
    this.from = now;
    return r;
  }
}

/** POST /v1/served (management token of this node): the counts since the last take. */
export async function takeServed(c: Context<NodeHono>): Promise<Response> {
  await requireMgmt(c);
  const { tally, nodeId, now } = c.var.node;
  if (!tally) throw new BunsanError('not_found', 'this node does not count what it serves');
  return c.json(tally.take(nodeId, now()), 200, { 'cache-control': 'no-store' });
}
