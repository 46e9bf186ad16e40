// The engine's pump. Keeps up to `window` chunks ahead of the consumer in flight or buffered,
// in order from the read position; sends each to the replica expected to deliver it first given
// that node's queue and speed (waiting for a busy fast node rather than handing the chunk to a
// slow idle one); asks a second replica when a request runs late and keeps the first verified
// copy, aborting the other; abandons a request that stalls; fails over at once when a node
// fails, backing it off. Event-driven: every completion pumps again, and one timer (the
// injected sleep) wakes it for deadlines, stalls and back-offs.
import { BunsanError } from '../errors.ts';
import type { ManifestChunk } from '../manifest.ts';
import type { ChooseContext, ChooseNode, Candidate } from './choose-node.ts';
import { adaptiveWindow, admitBytes, expectedMs, nodeLimit, priorsFrom, type DeviceBudget, type Priors } from './estimate.ts';
import type { ChunkReport, EventSink } from './events.ts';
import { fetchChunk, type ChunkSource } from './fetch-chunk.ts';
import { hedgeDeadline, isLate, projectedEnd } from './hedge.ts';
import { Link } from './link.ts';
import {
  isBackedOff, noteAbandoned, noteFailure, noteLatency, noteRate, noteRatio, noteStart, noteSuccess, statsFor,
  type NodeStats, type NodeStatsTable,
} from './node-stats.ts';
import type { RetryPolicy } from './retry-policy.ts';

export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

export interface SchedulerOptions {
  chunks: ManifestChunk[];
  first: number;
  last: number;
  /** usable nodes (excluded ones already removed): id → base URL */
  nodes: Map<string, string>;
  /** the manifest's directory hints per node */
  hints?: Map<string, { region?: string; grade?: number }>;
  source: ChunkSource;
  now: () => number;
  sleep: Sleep;
  /** fixed limits when given; otherwise they follow the measured links within the budget */
  concurrency?: number;
  perNode?: number;
  window?: number;
  budget: DeviceBudget;
  policy: RetryPolicy;
  /** which late chunks get a second request: every one, only the one the reader waits for, none */
  hedging: 'all' | 'head' | 'off';
  choose: ChooseNode;
  stats: NodeStatsTable;
  emit: EventSink;
  prefer?: ReadonlySet<string>;
  region?: string;
  random?: () => number;
  report?: (r: ChunkReport) => void;
}

interface Slot {
  chunk: ManifestChunk;
  state: 'idle' | 'fetching' | 'ready' | 'failed';
  /** failures of this chunk per node */
  failures: Map<string, number>;
  /** nodes asked, in order, without repeats */
  tried: string[];
  /** requests for it in flight: one, or two while hedged */
  running: Req[];
  hedged: boolean;
  plain?: Uint8Array;
  error?: unknown;
  waiter?: { resolve: (b: Uint8Array) => void; reject: (e: unknown) => void };
}

interface Req {
  slot: Slot;
  node: string;
  hedge: boolean;
  startedAt: number;
  /** predicted duration when sent */
  expected: number;
  deadline: number;
  total: number;
  controller: AbortController;
  headersAt: number | null;
  firstByteAt: number | null;
  lastProgress: number;
  received: number;
  /** no second replica could usefully take it: look again then */
  hedgeRetryAt: number;
}

interface Limits { perNode: (id: string) => number; total: number; window: number; priors: Priors }

export class Scheduler {
  private readonly slots = new Map<number, Slot>();
  private readonly requests = new Set<Req>();
  private readonly links = new Map<string, Link>();
  private next: number;
  /** lowest index known to be unavailable: nothing past it is worth fetching */
  private failedAt = Infinity;
  private closed = false;
  private closeReason: unknown;
  private wakeAt = Infinity;
  private pumpQueued = false;
  private pumping = false;
  private again = false;
  private readonly life = new AbortController();
  private readonly avgChunk: number;
  readonly totals = { fetchedBytes: 0, hedges: 0, hedgedBytes: 0, failures: 0, reports: 0 };

  constructor(private readonly o: SchedulerOptions) {
    this.next = o.first;
    let sum = 0;
    for (let i = o.first; i <= o.last; i++) sum += o.chunks[i].sealedLength;
    this.avgChunk = Math.max(1, sum / Math.max(1, o.last - o.first + 1));
  }

  /** Aborted when the download ends: probes and other helpers hang off it. */
  get signal(): AbortSignal {
    return this.life.signal;
  }

  /** Waits for chunk `index` (the consumer's next), hands it over and slides the window. */
  async take(index: number): Promise<Uint8Array> {
    if (index !== this.next) throw new BunsanError('internal', `chunks are taken in order (want ${this.next})`);
    this.pump();
    const slot = this.slot(index);
    const plain = await new Promise<Uint8Array>((resolve, reject) => {
      if (this.closed) reject(this.closeReason);
      else if (slot.state === 'ready') resolve(slot.plain!);
      else if (slot.state === 'failed') reject(slot.error);
      else slot.waiter = { resolve, reject };
    });
    // Handed over: it no longer counts against the window, so the next chunk can start now.
    this.slots.delete(index);
    this.next = index + 1;
    this.o.emit({ type: 'chunk-delivered', index, bytes: plain.length });
    this.pump();
    return plain;
  }

  /** Stops everything: in-flight requests are aborted, waiters rejected with `reason`. */
  close(reason: unknown = new BunsanError('internal', 'download closed')): void {
    if (this.closed) return;
    this.closed = true;
    this.closeReason = reason;
    this.life.abort(reason);
    const now = this.o.now();
    for (const r of this.requests) {
      r.controller.abort(reason);
      noteAbandoned(statsFor(this.o.stats, r.node));
      this.link(r.node).ended(now, r.headersAt !== null, r.total - r.received);
    }
    this.requests.clear();
    for (const s of this.slots.values()) {
      s.waiter?.reject(reason);
      s.waiter = undefined;
    }
    this.slots.clear();
  }

  private slot(index: number): Slot {
    let s = this.slots.get(index);
    if (!s) {
      s = { chunk: this.o.chunks[index], state: 'idle', failures: new Map(), tried: [], running: [], hedged: false };
      this.slots.set(index, s);
    }
    return s;
  }

  private link(id: string): Link {
    let l = this.links.get(id);
    if (!l) this.links.set(id, (l = new Link()));
    return l;
  }

  /** Re-entrant calls (a stall found inside a pump) just ask for another round. */
  private pump(): void {
    if (this.closed) return;
    if (this.pumping) {
      this.again = true;
      return;
    }
    this.pumping = true;
    try {
      do {
        this.again = false;
        this.step();
      } while (this.again && !this.closed);
    } finally {
      this.pumping = false;
    }
  }

  private step(): void {
    const now = this.o.now();
    const { policy } = this.o;
    for (const r of [...this.requests]) {
      if (now - r.lastProgress >= policy.stallMs) this.stalled(r, now);
    }
    const limits = this.limits(now);
    let wake = Infinity;
    // Chunks that wait for a busy node queue behind each other there: a later chunk sees that
    // queue and goes to another replica once that one would deliver it first.
    const reserved = new Map<string, number>();
    const end = Math.min(this.o.last, this.next + limits.window - 1, this.failedAt);
    for (let i = this.next; i <= end && this.requests.size < limits.total; i++) {
      const slot = this.slot(i);
      if (slot.state !== 'idle') continue;
      const t = this.startOne(slot, now, limits, reserved);
      if (t !== null) wake = Math.min(wake, t);
    }
    if (this.o.hedging !== 'off') {
      for (const r of [...this.requests]) {
        if (!this.hedgeable(r) || now < r.hedgeRetryAt) continue;
        if (isLate(r, now)) this.hedge(r, now, limits, 'late');
        else if (this.behind(r, now, limits)) this.hedge(r, now, limits, 'behind');
      }
    }
    for (const r of this.requests) {
      wake = Math.min(wake, r.lastProgress + policy.stallMs);
      if (!this.hedgeable(r)) continue;
      for (const t of [r.startedAt + r.expected, r.deadline, r.hedgeRetryAt]) if (t > now) wake = Math.min(wake, t);
      // its pace is worth another look now and then
      if (r.firstByteAt !== null) wake = Math.min(wake, now + policy.hedgeFloorMs);
    }
    if (wake < Infinity) this.wakeUp(wake, now);
  }

  private hedgeable(r: Req): boolean {
    const { slot } = r;
    if (slot.hedged || slot.running.length !== 1 || slot.state !== 'fetching') return false;
    return this.o.hedging === 'all' || (this.o.hedging === 'head' && slot.chunk.index === this.next);
  }

  private limits(now: number): Limits {
    const { o } = this;
    const usable: NodeStats[] = [];
    for (const id of o.nodes.keys()) usable.push(statsFor(o.stats, id));
    const perNode = (id: string) => o.perNode ?? nodeLimit(statsFor(o.stats, id), o.budget.perNodeMax);
    let rate = 0;
    let live = 0;
    for (const s of usable) {
      if (isBackedOff(s, now)) continue;
      live++;
      rate += s.rate;
    }
    const total = o.concurrency ?? o.budget.concurrencyMax;
    const window = o.window ?? adaptiveWindow(live, rate, this.avgChunk, o.budget);
    return { perNode, total, window, priors: priorsFrom(usable) };
  }

  private candidates(slot: Slot, exclude?: Req, reserved?: Map<string, number>): Candidate[] {
    const maxTries = 1 + this.o.policy.retries;
    return slot.chunk.nodes
      .filter((id) => this.o.nodes.has(id) && (slot.failures.get(id) ?? 0) < maxTries
        && (!exclude || !slot.running.some((r) => r.node === id)))
      .map((id) => ({
        node: statsFor(this.o.stats, id), failures: slot.failures.get(id) ?? 0,
        queueBytes: this.queueOf(id) + (reserved?.get(id) ?? 0), hint: this.o.hints?.get(id),
      }));
  }

  /** Bytes due from a node: this download's queue, and an average chunk for each request of other downloads. */
  private queueOf(id: string): number {
    const link = this.link(id);
    const others = Math.max(0, statsFor(this.o.stats, id).inFlight - link.own);
    return link.queueBytes + others * this.avgChunk;
  }

  private context(now: number, slot: Slot, limits: Limits): ChooseContext {
    return {
      now, perNode: this.o.perNode ?? this.o.budget.perNodeMax, bytes: slot.chunk.sealedLength, priors: limits.priors,
      prefer: this.o.prefer, region: this.o.region, random: this.o.random,
    };
  }

  /** Starts a request for an idle chunk; returns when to try again if every replica is backed off. */
  private startOne(slot: Slot, now: number, limits: Limits, reserved: Map<string, number>): number | null {
    const candidates = this.candidates(slot, undefined, reserved);
    if (candidates.length === 0) {
      this.fail(slot);
      return null;
    }
    const pick = this.o.choose(candidates, this.context(now, slot, limits));
    if (!pick) {
      // Backed-off nodes need a wake-up; busy ones pump when their requests end.
      const until = Math.min(...candidates.map((c) => (c.node.backoffUntil > now ? c.node.backoffUntil : Infinity)));
      return until < Infinity ? until : null;
    }
    // The best node is busy: its queue is already counted in its cost, so waiting for it still
    // beats the alternatives. One of its requests ending pumps again.
    if (this.full(pick.id, limits)) {
      reserved.set(pick.id, (reserved.get(pick.id) ?? 0) + slot.chunk.sealedLength);
      return null;
    }
    this.start(slot, pick.id, now, false, limits.priors);
    return null;
  }

  /**
   * A request can be on time by its own node's measure and still hold a chunk another replica
   * would deliver in well under half the time it still needs: the model was wrong when it was
   * sent (a node never measured, priors that flattered it). Its pace says so; it is rescued.
   */
  private behind(r: Req, now: number, limits: Limits): boolean {
    const end = projectedEnd(r, now);
    if (end === null) return false;
    const candidates = this.candidates(r.slot, r);
    const alt = candidates.length ? this.o.choose(candidates, this.context(now, r.slot, limits)) : undefined;
    if (!alt) return false;
    const there = expectedMs(alt, r.total, this.queueOf(alt.id), limits.priors);
    return end - now > Math.max(2 * there, there + this.o.policy.hedgeFloorMs);
  }

  /** At its request limit, or (adaptive) still owing more than it delivers in one response time. */
  private full(id: string, limits: Limits): boolean {
    const link = this.link(id);
    if (link.own >= limits.perNode(id)) return true;
    if (this.o.perNode !== undefined || link.own === 0) return false;
    return link.queueBytes > admitBytes(statsFor(this.o.stats, id));
  }

  private hedge(r: Req, now: number, limits: Limits, reason: 'late' | 'behind'): void {
    const { slot } = r;
    const retry = () => (r.hedgeRetryAt = now + this.o.policy.hedgeFloorMs);
    const candidates = this.candidates(slot, r);
    const pick = candidates.length ? this.o.choose(candidates, this.context(now, slot, limits)) : undefined;
    // A hedge may go one over an adaptive node limit (it is the most urgent request there), never
    // over a limit the caller fixed.
    const slack = this.o.perNode === undefined ? 1 : 0;
    if (!pick || this.link(pick.id).own >= limits.perNode(pick.id) + slack) return void retry();
    if (this.o.concurrency !== undefined && this.requests.size >= this.o.concurrency) return void retry();
    const theirs = now + expectedMs(pick, slot.chunk.sealedLength, this.queueOf(pick.id), limits.priors);
    const ours = projectedEnd(r, now) ?? Infinity;
    if (theirs >= ours) return void retry();
    slot.hedged = true;
    this.totals.hedges++;
    this.o.emit({ type: 'chunk-hedge', index: slot.chunk.index, node: pick.id, from: r.node, reason, elapsed: Math.round(now - r.startedAt), expected: Math.round(r.expected) });
    this.start(slot, pick.id, now, true, limits.priors);
  }

  private start(slot: Slot, node: string, now: number, hedge: boolean, priors: Priors): void {
    const stats = statsFor(this.o.stats, node);
    const total = slot.chunk.sealedLength;
    const expected = Math.max(1, expectedMs(stats, total, this.queueOf(node), priors));
    const r: Req = {
      slot, node, hedge, startedAt: now, expected, deadline: hedgeDeadline(now, expected, stats, this.o.policy), total,
      controller: new AbortController(), headersAt: null, firstByteAt: null, lastProgress: now, received: 0, hedgeRetryAt: 0,
    };
    this.requests.add(r);
    slot.running.push(r);
    slot.state = 'fetching';
    if (!slot.tried.includes(node)) slot.tried.push(node);
    noteStart(stats);
    this.link(node).started(total);
    this.o.emit({ type: 'chunk-request', index: slot.chunk.index, node, attempt: (slot.failures.get(node) ?? 0) + 1, ...(hedge ? { hedge } : {}) });
    fetchChunk(this.o.source, slot.chunk, this.o.nodes.get(node)!, r.controller.signal, {
      headers: () => this.headers(r),
      bytes: (n) => this.bytes(r, n),
    }).then((got) => this.succeeded(r, got.plain, got.bytes), (err) => this.failed(r, err));
  }

  private headers(r: Req): void {
    if (!this.requests.has(r)) return;
    const now = this.o.now();
    r.headersAt = r.lastProgress = now;
    noteLatency(statsFor(this.o.stats, r.node), now - r.startedAt, now);
    this.link(r.node).headers(now);
  }

  private bytes(r: Req, n: number): void {
    if (!this.requests.has(r)) return;
    const now = this.o.now();
    if (r.firstByteAt === null) r.firstByteAt = now;
    r.received += n;
    r.lastProgress = now;
    this.totals.fetchedBytes += n;
    const link = this.link(r.node);
    const before = link.queueBytes;
    link.bytes(n);
    if (link.sampleDue(now)) {
      const sample = link.sample(now);
      if (sample !== null) noteRate(statsFor(this.o.stats, r.node), sample, now);
    }
    // The node just came within one response time of idle: its next request should go now,
    // not when this one ends.
    if (this.o.perNode === undefined && !this.pumpQueued) {
      const admit = admitBytes(statsFor(this.o.stats, r.node));
      if (before > admit && link.queueBytes <= admit) {
        this.pumpQueued = true;
        queueMicrotask(() => {
          this.pumpQueued = false;
          this.pump();
        });
      }
    }
  }

  /** Takes a request out of flight and records the link's throughput up to now. */
  private finish(r: Req, now: number, meagre = false): NodeStats {
    const stats = statsFor(this.o.stats, r.node);
    const link = this.link(r.node);
    const sample = link.sample(now, meagre);
    if (sample !== null) noteRate(stats, sample, now);
    link.ended(now, r.headersAt !== null, r.total - r.received);
    const { running } = r.slot;
    running.splice(running.indexOf(r), 1);
    return stats;
  }

  private succeeded(r: Req, plain: Uint8Array, bytes: number): void {
    if (!this.requests.delete(r)) return; // closed, or lost the race, meanwhile
    const now = this.o.now();
    const stats = this.finish(r, now);
    noteSuccess(stats);
    noteRatio(stats, (now - r.startedAt) / r.expected);
    const { slot } = r;
    this.o.emit({ type: 'chunk-done', index: slot.chunk.index, node: r.node, bytes, ms: now - r.startedAt, ...(r.hedge ? { hedge: true } : {}) });
    for (const loser of [...slot.running]) this.abandon(loser, now);
    slot.state = 'ready';
    if (slot.waiter) slot.waiter.resolve(plain);
    else slot.plain = plain;
    slot.waiter = undefined;
    this.pump();
  }

  /** The other copy won. A loser that had gone silent for a stall's length counts as a failure. */
  private abandon(r: Req, now: number): void {
    this.requests.delete(r);
    r.controller.abort(new BunsanError('internal', 'another replica answered first'));
    const stats = this.finish(r, now, true);
    // What it did not deliver in the time it had is a measurement too: it took at least this long.
    if (r.headersAt === null) noteLatency(stats, now - r.startedAt, now);
    if (now - r.lastProgress >= this.o.policy.stallMs) {
      const until = noteFailure(stats, now, r.startedAt, this.o.policy);
      if (until !== null) this.o.emit({ type: 'node-backoff', node: r.node, until, failures: stats.consecutiveFailures });
    } else {
      noteAbandoned(stats);
    }
    this.totals.hedgedBytes += r.received;
    this.o.emit({ type: 'chunk-abandoned', index: r.slot.chunk.index, node: r.node, bytes: r.received });
  }

  private stalled(r: Req, now: number): void {
    const err = new BunsanError('node_unreachable', `stalled: nothing received for ${Math.round(now - r.lastProgress)} ms`);
    r.controller.abort(err);
    this.failed(r, err);
  }

  private failed(r: Req, err: unknown): void {
    if (!this.requests.delete(r)) return;
    const now = this.o.now();
    const { slot, node } = r;
    const stats = this.finish(r, now);
    const code = err instanceof BunsanError ? err.code : 'node_unreachable';
    const message = err instanceof Error ? err.message : String(err);
    const { index, hash } = slot.chunk;
    this.totals.failures++;
    this.o.emit({ type: 'chunk-failed', index, node, code, message });
    const until = noteFailure(stats, now, r.startedAt, this.o.policy);
    if (until !== null) this.o.emit({ type: 'node-backoff', node, until, failures: stats.consecutiveFailures });
    slot.failures.set(node, (slot.failures.get(node) ?? 0) + 1);
    if (code === 'integrity_failed' || code === 'stamp_mismatch') {
      const report: ChunkReport = { index, hash, node, code };
      this.totals.reports++;
      this.o.emit({ type: 'chunk-report', ...report });
      this.o.report?.(report);
    }
    // The other copy of a hedged chunk is still coming: it may be hedged again if it runs late.
    slot.hedged = false;
    if (slot.running.length === 0) slot.state = 'idle';
    this.pump();
  }

  private fail(slot: Slot): void {
    const { index } = slot.chunk;
    const tried = slot.tried;
    slot.state = 'failed';
    slot.error = new BunsanError(
      'chunk_unavailable',
      tried.length ? `chunk ${index} unavailable; tried ${tried.join(', ')}` : `chunk ${index} unavailable; no usable replica`,
      { index, tried },
    );
    this.failedAt = Math.min(this.failedAt, index);
    this.o.emit({ type: 'chunk-unavailable', index, tried });
    slot.waiter?.reject(slot.error);
    slot.waiter = undefined;
  }

  private wakeUp(at: number, now: number): void {
    if (at >= this.wakeAt) return;
    this.wakeAt = at;
    this.o.sleep(at - now, this.life.signal).then(
      () => {
        if (this.wakeAt === at) this.wakeAt = Infinity;
        this.pump();
      },
      () => {},
    );
  }
}
