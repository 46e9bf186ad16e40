// The engine's pump. Keeps up to `window` chunks ahead of the consumer in flight or buffered,
// in order from the read position; sends each to the replica expected to deliver it first given
// that node's queue and speed (waiting for a busy fast node rather than handing the chunk to a
// slow idle one); asks a second replica when a request runs late and keeps the first verified
// copy, aborting the other; abandons a request that stalls; fails over at once when a node
// fails, backing it off. Event-driven: every completion pumps again, and one timer (the
// injected sleep) wakes it for deadlines, stalls and back-offs.
import { BunsanError } from '../errors.ts';
import type { ManifestChunk } from '../manifest.ts';
import type { ChooseContext, ChooseNode, Candidate, NodeHint } from './choose-node.ts';
import { adaptiveWindow, expectedMs, nodeLimit, priorsFrom, type DeviceBudget, type Priors } from './estimate.ts';
import type { ChunkReport, EventSink } from './events.ts';
import { CutShort, fetchChunk, type ChunkSource } from './fetch-chunk.ts';
import { isLate, projectedEnd } from './hedge.ts';
import {
  isBackedOff, noteAbandoned, noteFailure, noteLatency, noteRatio, noteSuccess, statsFor, type NodeStats, type NodeStatsTable,
} from './node-stats.ts';
import type { RetryPolicy } from './retry-policy.ts';
import { Transfers, type Transfer } from './transfers.ts';

export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

export interface SchedulerOptions {
  chunks: ManifestChunk[];
  first: number;
  last: number;
  /** usable nodes (excluded ones already removed): id → base URL */
  nodes: Map<string, string>;
  /** the manifest's directory hints per node */
  hints?: Map<string, NodeHint>;
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
  /** fresh holders for every chunk, asked for when a chunk has no listed node left to try (download.ts) */
  refresh?: () => Promise<Refreshed>;
}

/** What a fresh manifest changes: where each chunk is now, the nodes' addresses and hints, a new token. */
export interface Refreshed {
  chunks: ManifestChunk[];
  nodes: Map<string, string>;
  hints: Map<string, NodeHint>;
  token: string;
}

/** A chunk whose every listed node failed it may ask for fresh holders this many times. */
const MAX_REFRESHES = 2;

interface Slot {
  chunk: ManifestChunk;
  /** `refreshing`: every listed node failed it; waiting for fresh holders */
  state: 'idle' | 'fetching' | 'refreshing' | 'ready' | 'failed';
  /** fresh holders asked for on its behalf */
  refreshes: number;
  /** failures of this chunk per node */
  failures: Map<string, number>;
  /** nodes asked, in order, without repeats */
  tried: string[];
  /** requests for it in flight: one, or two while hedged */
  running: Req[];
  hedged: boolean;
  /** the chunk's first bytes from a transfer the network cut short: the next request asks for the rest */
  partial?: Uint8Array;
  plain?: Uint8Array;
  error?: unknown;
  waiter?: { resolve: (b: Uint8Array) => void; reject: (e: unknown) => void };
}

type Req = Transfer<Slot>;

/** Timers firing this late on average (ms) mean the client is starved of CPU: no hedging. */
const MAX_LAG_MS = 30;
/** Hedged bytes may reach this share of the bytes fetched (twice that for the chunk being read)… */
const HEDGE_SHARE = 0.05;
/** …plus this many chunks' worth, so that the first chunks can be hedged too. */
const HEDGE_ALLOWANCE_CHUNKS = 4;

/**
 * A node whose requests have all been silent for this many of its response times (and at least
 * twice the hedge floor), one of them already late, has stopped: a hung server answers nothing
 * on any connection, while a healthy one always has bytes moving on some.
 */
const NODE_SILENT_LATENCIES = 4;

/** How often the pace of the chunk the reader waits for is looked at. */
const HEAD_LOOK_MS = 25;

/** Below this a cut-short transfer is not worth resuming with a range: asking afresh costs as much. */
const MIN_RESUME_BYTES = 64 * 1024;

interface Limits { perNode: (id: string) => number; total: number; window: number; priors: Priors }

export class Scheduler {
  private readonly slots = new Map<number, Slot>();
  private readonly transfers: Transfers<Slot>;
  private next: number;
  /** lowest index known to be unavailable: nothing past it is worth fetching */
  private failedAt = Infinity;
  private closed = false;
  private closeReason: unknown;
  private wakeAt = Infinity;
  /** moving average of how late our timers fire (ms) */
  private lag = 0;
  private pumpQueued = false;
  private pumping = false;
  private again = false;
  private readonly life = new AbortController();
  private readonly avgChunk: number;
  private readonly counts = { hedges: 0, hedgedBytes: 0, failures: 0, reports: 0, refreshes: 0 };
  /** the chunks as last known: a refresh replaces entries, never the caller's manifest */
  private readonly chunks: ManifestChunk[];
  private refreshing: Promise<void> | null = null;

  constructor(private readonly o: SchedulerOptions) {
    this.next = o.first;
    this.chunks = [...o.chunks];
    let sum = 0;
    for (let i = o.first; i <= o.last; i++) sum += o.chunks[i].sealedLength;
    this.avgChunk = Math.max(1, sum / Math.max(1, o.last - o.first + 1));
    this.transfers = new Transfers<Slot>({
      stats: o.stats, policy: o.policy, avgChunk: this.avgChunk, paced: o.perNode === undefined,
      onAdmit: () => {
        if (this.pumpQueued) return;
        this.pumpQueued = true;
        queueMicrotask(() => {
          this.pumpQueued = false;
          this.pump();
        });
      },
    });
  }

  /** The download's totals so far, for the `done` event. */
  get totals() {
    return { fetchedBytes: this.transfers.fetchedBytes, ...this.counts };
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
    this.transfers.closeAll(this.o.now(), reason);
    for (const s of this.slots.values()) {
      s.waiter?.reject(reason);
      s.waiter = undefined;
    }
    this.slots.clear();
  }

  private slot(index: number): Slot {
    let s = this.slots.get(index);
    if (!s) {
      s = { chunk: this.chunks[index], state: 'idle', refreshes: 0, failures: new Map(), tried: [], running: [], hedged: false };
      this.slots.set(index, s);
    }
    return s;
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
    for (const r of [...this.transfers.live]) {
      if (now - r.lastProgress >= policy.stallMs) this.stalled(r, now);
    }
    const silent = this.silentNodes(now);
    const limits = this.limits(now);
    let wake = Infinity;
    // Chunks that wait for a busy node queue behind each other there: a later chunk sees that
    // queue and goes to another replica once that one would deliver it first.
    const reserved = new Map<string, number>();
    const end = Math.min(this.o.last, this.next + limits.window - 1, this.failedAt);
    for (let i = this.next; i <= end && this.transfers.live.size < limits.total; i++) {
      const slot = this.slot(i);
      if (slot.state !== 'idle') continue;
      const t = this.startOne(slot, now, limits, reserved);
      if (t !== null) wake = Math.min(wake, t);
    }
    const head = this.firstMissing();
    // A client whose own timers run late cannot tell a late node from its own slowness, and a
    // hedge would only add load: no hedging then. Hedging also stops when it has cost its
    // share of the bytes (more for the chunk the reader waits for).
    if (this.o.hedging !== 'off' && this.lag < MAX_LAG_MS) {
      const spent = this.counts.hedgedBytes;
      const fetched = this.transfers.fetchedBytes;
      for (const r of [...this.transfers.live]) {
        if (!this.hedgeable(r) || now < r.hedgeRetryAt) continue;
        const isHead = r.owner.chunk.index === head;
        if (spent > (isHead ? 2 : 1) * HEDGE_SHARE * fetched + HEDGE_ALLOWANCE_CHUNKS * this.avgChunk) continue;
        if (isLate(r, now)) this.hedge(r, now, limits, 'late');
        else if (isHead && this.behind(r, now, limits)) this.hedge(r, now, limits, 'behind');
      }
    }
    if (silent < Infinity) wake = Math.min(wake, silent);
    for (const r of this.transfers.live) {
      wake = Math.min(wake, r.lastProgress + policy.stallMs);
      if (!this.hedgeable(r)) continue;
      for (const t of [r.startedAt + r.expected, r.deadline, r.hedgeRetryAt]) if (t > now) wake = Math.min(wake, t);
      // Its pace is worth another look now and then; soon for the chunk the reader waits for.
      if (r.firstByteAt !== null) wake = Math.min(wake, now + (r.owner.chunk.index === head ? HEAD_LOOK_MS : policy.hedgeFloorMs));
    }
    if (wake < Infinity) this.wakeUp(wake, now);
  }

  /** The first chunk from the read position not yet here: the reader will wait for it next. */
  private firstMissing(): number {
    let i = this.next;
    while (this.slots.get(i)?.state === 'ready') i++;
    return i;
  }

  private hedgeable(r: Req): boolean {
    const slot = r.owner;
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
    const priors = priorsFrom(usable);
    this.transfers.priors = priors;
    return { perNode, total, window, priors };
  }

  private candidates(slot: Slot, exclude?: Req, reserved?: Map<string, number>): Candidate[] {
    const maxTries = 1 + this.o.policy.retries;
    return slot.chunk.nodes
      .filter((id) => this.o.nodes.has(id) && (slot.failures.get(id) ?? 0) < maxTries
        && (!exclude || !slot.running.some((r) => r.node === id)))
      .map((id) => ({
        node: statsFor(this.o.stats, id), failures: slot.failures.get(id) ?? 0,
        queueBytes: this.transfers.queueOf(id) + (reserved?.get(id) ?? 0), hint: this.o.hints?.get(id),
      }));
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
      if (this.o.refresh && slot.refreshes < MAX_REFRESHES) this.refresh(slot);
      else this.fail(slot);
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
    if (this.transfers.full(pick.id, limits.perNode(pick.id), limits.priors)) {
      reserved.set(pick.id, (reserved.get(pick.id) ?? 0) + slot.chunk.sealedLength);
      return null;
    }
    this.start(slot, pick.id, now, false, limits.priors);
    return null;
  }

  /**
   * A request can be on time by its own node's measure and still hold the chunk the reader will
   * wait for next when another replica would deliver it in well under half the time it still
   * needs: the model was wrong when it was sent (a node never measured, priors that flattered
   * it). Its pace says so; it is rescued. Chunks further ahead have time: no bytes are spent.
   */
  private behind(r: Req, now: number, limits: Limits): boolean {
    const end = projectedEnd(r, now);
    if (end === null) return false;
    const candidates = this.candidates(r.owner, r);
    const alt = candidates.length ? this.o.choose(candidates, this.context(now, r.owner, limits)) : undefined;
    if (!alt) return false;
    const there = expectedMs(alt, r.total, this.transfers.queueOf(alt.id), limits.priors);
    return end - now > Math.max(2 * there, there + this.o.policy.hedgeFloorMs);
  }

  private hedge(r: Req, now: number, limits: Limits, reason: 'late' | 'behind'): void {
    const slot = r.owner;
    const retry = () => (r.hedgeRetryAt = now + this.o.policy.hedgeFloorMs);
    const candidates = this.candidates(slot, r);
    const pick = candidates.length ? this.o.choose(candidates, this.context(now, slot, limits)) : undefined;
    // A hedge may go one over an adaptive node limit (it is the most urgent request there), never
    // over a limit the caller fixed.
    const slack = this.o.perNode === undefined ? 1 : 0;
    if (!pick || this.transfers.link(pick.id).own >= limits.perNode(pick.id) + slack) return void retry();
    if (this.o.concurrency !== undefined && this.transfers.live.size >= this.o.concurrency) return void retry();
    const theirs = now + expectedMs(pick, slot.chunk.sealedLength, this.transfers.queueOf(pick.id), limits.priors);
    const ours = projectedEnd(r, now) ?? Infinity;
    if (theirs >= ours) return void retry();
    slot.hedged = true;
    this.counts.hedges++;
    // What the late node delivered so far is what it is worth now, before its next chunk is placed.
    this.transfers.measure(r.node, now);
    this.o.emit({ type: 'chunk-hedge', index: slot.chunk.index, node: pick.id, from: r.node, reason, elapsed: Math.round(now - r.startedAt), expected: Math.round(r.expected) });
    this.start(slot, pick.id, now, true, limits.priors);
  }

  private start(slot: Slot, node: string, now: number, hedge: boolean, priors: Priors): void {
    // A hedge runs beside a request still receiving: it cannot take over a prefix, it starts afresh.
    const prefix = hedge ? undefined : slot.partial;
    const r = this.transfers.open(slot, node, slot.chunk.sealedLength - (prefix?.length ?? 0), now, hedge, priors);
    slot.running.push(r);
    slot.state = 'fetching';
    if (!slot.tried.includes(node)) slot.tried.push(node);
    this.o.emit({ type: 'chunk-request', index: slot.chunk.index, node, attempt: (slot.failures.get(node) ?? 0) + 1, ...(hedge ? { hedge } : {}) });
    fetchChunk(this.o.source, slot.chunk, this.o.nodes.get(node)!, r.controller.signal, {
      headers: () => this.transfers.headers(r, this.o.now()),
      bytes: (n) => this.transfers.bytes(r, n, this.o.now()),
    }, prefix).then((got) => this.succeeded(r, got.plain, got.bytes), (err) => this.failed(r, err));
  }

  /** Takes a request out of flight (null: it was not in flight any more) and off its chunk. */
  private finish(r: Req, now: number, meagre = false): NodeStats | null {
    const stats = this.transfers.end(r, now, meagre);
    if (stats) r.owner.running.splice(r.owner.running.indexOf(r), 1);
    return stats;
  }

  private succeeded(r: Req, plain: Uint8Array, bytes: number): void {
    const now = this.o.now();
    const stats = this.finish(r, now);
    if (!stats) return; // closed, or lost the race, meanwhile
    noteSuccess(stats);
    noteRatio(stats, (now - r.startedAt) / r.expected);
    const slot = r.owner;
    this.o.emit({ type: 'chunk-done', index: slot.chunk.index, node: r.node, bytes, ms: now - r.startedAt, ...(r.hedge ? { hedge: true } : {}) });
    for (const loser of [...slot.running]) this.abandon(loser, now);
    slot.state = 'ready';
    slot.partial = undefined;
    if (slot.waiter) slot.waiter.resolve(plain);
    else slot.plain = plain;
    slot.waiter = undefined;
    this.pump();
  }

  /** The other copy won. A loser that had gone silent for a stall's length counts as a failure. */
  private abandon(r: Req, now: number): void {
    r.controller.abort(new BunsanError('internal', 'another replica answered first'));
    const stats = this.finish(r, now, true);
    if (!stats) return;
    // What it did not deliver in the time it had is a measurement too: it took at least this long.
    if (r.headersAt === null) noteLatency(stats, now - r.startedAt, now);
    if (now - r.lastProgress >= this.o.policy.stallMs) {
      const until = noteFailure(stats, now, r.startedAt, this.o.policy);
      if (until !== null) this.o.emit({ type: 'node-backoff', node: r.node, until, failures: stats.consecutiveFailures });
    } else {
      noteAbandoned(stats);
    }
    this.counts.hedgedBytes += r.received;
    this.o.emit({ type: 'chunk-abandoned', index: r.owner.chunk.index, node: r.node, bytes: r.received });
  }

  private stalled(r: Req, now: number, why = `stalled: nothing received for ${Math.round(now - r.lastProgress)} ms`): void {
    const err = new BunsanError('node_unreachable', why);
    r.controller.abort(err);
    this.failed(r, err);
  }

  /**
   * Fails every request of a node that has gone silent as a whole, well before each would
   * reach its own stall timeout, so that its chunks go to the other replicas at once and the
   * node is backed off. Not while our own timers run late: then the silence may be ours.
   * Returns when a node's silence would next be worth a look (Infinity: none).
   */
  private silentNodes(now: number): number {
    if (this.lag >= MAX_LAG_MS) return Infinity;
    const nodes = new Map<string, { late: boolean; last: number; deadline: number; reqs: Req[] }>();
    for (const r of this.transfers.live) {
      const n = nodes.get(r.node) ?? { late: false, last: -Infinity, deadline: Infinity, reqs: [] };
      n.late ||= now >= r.deadline;
      n.last = Math.max(n.last, r.lastProgress);
      n.deadline = Math.min(n.deadline, r.deadline);
      n.reqs.push(r);
      nodes.set(r.node, n);
    }
    let next = Infinity;
    for (const [id, n] of nodes) {
      // Only a node with a late request is looked at more often: extra rounds for healthy nodes
      // would re-judge their pace at random moments and hedge on noise.
      if (!n.late) {
        next = Math.min(next, n.deadline);
        continue;
      }
      const limit = Math.max(2 * this.o.policy.hedgeFloorMs, NODE_SILENT_LATENCIES * statsFor(this.o.stats, id).latency);
      if (now - n.last < limit) {
        next = Math.min(next, n.last + limit);
        continue;
      }
      for (const r of n.reqs) this.stalled(r, now, `node silent: nothing from ${id} for ${Math.round(now - n.last)} ms`);
    }
    return next;
  }


  private failed(r: Req, err: unknown): void {
    const now = this.o.now();
    const stats = this.finish(r, now);
    if (!stats) return;
    const { owner: slot, node } = r;
    const code = err instanceof BunsanError ? err.code : 'node_unreachable';
    const message = err instanceof Error ? err.message : String(err);
    const { index, hash } = slot.chunk;
    this.counts.failures++;
    this.o.emit({ type: 'chunk-failed', index, node, code, message });
    const until = noteFailure(stats, now, r.startedAt, this.o.policy);
    if (until !== null) this.o.emit({ type: 'node-backoff', node, until, failures: stats.consecutiveFailures });
    slot.failures.set(node, (slot.failures.get(node) ?? 0) + 1);
    // What arrived before the network cut the transfer is kept; the next request asks for the rest.
    if (err instanceof CutShort && err.partial.length >= MIN_RESUME_BYTES && err.partial.length > (slot.partial?.length ?? 0)) {
      slot.partial = err.partial;
    }
    // A copy stitched from two replicas that does not verify cannot say which was wrong: start
    // over from the first byte, and report nobody.
    const stitched = err instanceof BunsanError && (err.details as { resumedAt?: number } | undefined)?.resumedAt !== undefined;
    if (stitched) slot.partial = undefined;
    if ((code === 'integrity_failed' || code === 'stamp_mismatch') && !stitched) {
      const report: ChunkReport = { index, hash, node, code };
      this.counts.reports++;
      this.o.emit({ type: 'chunk-report', ...report });
      this.o.report?.(report);
    }
    // The other copy of a hedged chunk is still coming: it may be hedged again if it runs late.
    slot.hedged = false;
    if (slot.running.length === 0) slot.state = 'idle';
    this.pump();
  }

  /**
   * Every node the manifest lists for this chunk failed it: its copies may have moved since the
   * manifest was made (a drain, a wandering content). One fresh manifest at a time serves every
   * chunk that waits; each such chunk then tries its new holders from scratch.
   */
  private refresh(slot: Slot): void {
    slot.state = 'refreshing';
    slot.refreshes++;
    if (this.refreshing) return;
    this.counts.refreshes++;
    this.o.emit({ type: 'manifest-refresh', index: slot.chunk.index });
    this.refreshing = this.o.refresh!().then((r) => this.apply(r), (err: unknown) => {
      const why = err instanceof Error ? err.message : String(err);
      for (const s of this.slots.values()) if (s.state === 'refreshing') this.fail(s, `a fresh manifest failed: ${why}`);
    }).finally(() => {
      this.refreshing = null;
      this.pump();
    });
  }

  private apply(r: Refreshed): void {
    if (this.closed) return;
    for (const [id, url] of r.nodes) this.o.nodes.set(id, url);
    for (const [id, hint] of r.hints) this.o.hints?.set(id, hint);
    this.o.source.token = r.token;
    for (let i = this.o.first; i <= this.o.last; i++) this.chunks[i] = r.chunks[i];
    for (const s of this.slots.values()) {
      s.chunk = this.chunks[s.chunk.index];
      if (s.state !== 'refreshing') continue;
      s.failures.clear();
      s.state = 'idle';
    }
  }

  private fail(slot: Slot, why?: string): void {
    const { index } = slot.chunk;
    const tried = slot.tried;
    slot.state = 'failed';
    slot.error = new BunsanError(
      'chunk_unavailable',
      (tried.length ? `chunk ${index} unavailable; tried ${tried.join(', ')}` : `chunk ${index} unavailable; no usable replica`) + (why ? `; ${why}` : ''),
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
        // How late the timer fired: the client's own slowness (a busy CPU), not any node's.
        const lag = Math.max(0, this.o.now() - at);
        this.lag = Math.max(lag, this.lag * 0.8 + lag * 0.2); // at once up, slowly down
        this.pump();
      },
      () => {},
    );
  }
}
