// The requests in flight and what they teach. Each transfer carries its prediction (when it
// should end, when it is late) and its progress (headers, bytes, the last sign of life); each
// node's link carries this download's queue on it and its measured throughput; the shared node
// stats are updated from both. The scheduler decides what to send and what to do with the
// outcomes; this keeps the accounting in one place.
import { DEFAULT_PRIORS, admitBytes, expectedMs, type Priors } from './estimate.ts';
import { hedgeDeadline } from './hedge.ts';
import { Link } from './link.ts';
import {
  noteAbandoned, noteLatency, noteRate, noteStart, statsFor, type NodeStats, type NodeStatsTable,
} from './node-stats.ts';
import type { RetryPolicy } from './retry-policy.ts';

export interface Transfer<T> {
  /** what the scheduler hangs on it (its chunk slot) */
  owner: T;
  node: string;
  /** a second request for a chunk that ran late */
  hedge: boolean;
  startedAt: number;
  /** predicted duration when sent */
  expected: number;
  /** late from then on */
  deadline: number;
  /** bytes asked for */
  total: number;
  controller: AbortController;
  headersAt: number | null;
  firstByteAt: number | null;
  lastProgress: number;
  received: number;
  /** no second replica could usefully take it: look again then */
  hedgeRetryAt: number;
}

export interface TransfersOptions {
  stats: NodeStatsTable;
  policy: RetryPolicy;
  /** bytes of an average chunk: requests of other downloads on a node count this much each */
  avgChunk: number;
  /** whether nodes are paced by what they owe (adaptive limits); off when the caller fixed them */
  paced: boolean;
  /** a node just came within one response time of idle: its next request should go now */
  onAdmit: () => void;
}

export class Transfers<T> {
  readonly live = new Set<Transfer<T>>();
  private readonly links = new Map<string, Link>();
  fetchedBytes = 0;
  /** the scheduler's latest priors, for decisions made between its rounds */
  priors: Priors = DEFAULT_PRIORS;

  constructor(private readonly o: TransfersOptions) {}

  link(id: string): Link {
    let l = this.links.get(id);
    if (!l) this.links.set(id, (l = new Link()));
    return l;
  }

  /** Bytes due from a node: this download's queue, and an average chunk for each request of other downloads. */
  queueOf(id: string): number {
    const link = this.link(id);
    const others = Math.max(0, statsFor(this.o.stats, id).inFlight - link.own);
    return link.queueBytes + others * this.o.avgChunk;
  }

  /** At its request limit, or (paced) still owing more than it delivers in one response time. */
  full(id: string, limit: number, priors: Priors): boolean {
    const link = this.link(id);
    if (link.own >= limit) return true;
    if (!this.o.paced || link.own === 0) return false;
    return link.queueBytes > admitBytes(statsFor(this.o.stats, id), priors);
  }

  open(owner: T, node: string, total: number, now: number, hedge: boolean, priors: Priors): Transfer<T> {
    const stats = statsFor(this.o.stats, node);
    const expected = Math.max(1, expectedMs(stats, total, this.queueOf(node), priors));
    const t: Transfer<T> = {
      owner, node, hedge, startedAt: now, expected, deadline: hedgeDeadline(now, expected, stats, this.o.policy), total,
      controller: new AbortController(), headersAt: null, firstByteAt: null, lastProgress: now, received: 0, hedgeRetryAt: 0,
    };
    this.live.add(t);
    noteStart(stats);
    this.link(node).started(total);
    return t;
  }

  headers(t: Transfer<T>, now: number): void {
    if (!this.live.has(t)) return;
    t.headersAt = t.lastProgress = now;
    noteLatency(statsFor(this.o.stats, t.node), now - t.startedAt, now);
    this.link(t.node).headers(now);
  }

  bytes(t: Transfer<T>, n: number, now: number): void {
    if (!this.live.has(t)) return;
    if (t.firstByteAt === null) t.firstByteAt = now;
    t.received += n;
    t.lastProgress = now;
    this.fetchedBytes += n;
    const link = this.link(t.node);
    const before = link.queueBytes;
    link.bytes(n);
    const stats = statsFor(this.o.stats, t.node);
    if (link.sampleDue(now)) {
      const sample = link.sample(now);
      if (sample !== null) noteRate(stats, sample, now);
    }
    if (this.o.paced) {
      const admit = admitBytes(stats, this.priors);
      if (before > admit && link.queueBytes <= admit) this.o.onAdmit();
    }
  }

  /** Records the node's throughput so far now, even from few bytes (its slowness was just found out). */
  measure(id: string, now: number): void {
    const sample = this.link(id).sample(now, true);
    if (sample !== null) noteRate(statsFor(this.o.stats, id), sample, now);
  }

  /**
   * Takes a transfer out of flight, recording the link's throughput up to now; null if it was
   * not in flight (closed, or it lost a race, meanwhile). `meagre`: take a rate sample even from
   * few bytes (a transfer given up on has delivered all it will).
   */
  end(t: Transfer<T>, now: number, meagre = false): NodeStats | null {
    if (!this.live.delete(t)) return null;
    const stats = statsFor(this.o.stats, t.node);
    const link = this.link(t.node);
    const sample = link.sample(now, meagre);
    if (sample !== null) noteRate(stats, sample, now);
    link.ended(now, t.headersAt !== null, t.total - t.received);
    return stats;
  }

  /** Aborts everything in flight (the download is over). */
  closeAll(now: number, reason: unknown): void {
    for (const t of [...this.live]) {
      t.controller.abort(reason);
      const stats = this.end(t, now);
      if (stats) noteAbandoned(stats);
    }
  }
}
