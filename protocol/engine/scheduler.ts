// The engine's pump: keeps up to `window` chunks ahead of the consumer in flight or buffered,
// picks a replica for each, fails over at once when a node fails, and waits out back-offs with
// the injected sleep. Event-driven (every completion pumps again) so retries do not wait for
// the consumer to pull.
import { BunsanError } from '../errors.ts';
import type { ManifestChunk } from '../manifest.ts';
import type { ChooseNode } from './choose-node.ts';
import type { EventSink } from './events.ts';
import { fetchChunk, type ChunkSource } from './fetch-chunk.ts';
import { noteAbandoned, noteFailure, noteStart, noteSuccess, statsFor, type NodeStatsTable } from './node-stats.ts';
import type { RetryPolicy } from './retry-policy.ts';

export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

export interface SchedulerOptions {
  chunks: ManifestChunk[];
  first: number;
  last: number;
  /** usable nodes (excluded ones already removed): id → base URL */
  nodes: Map<string, string>;
  source: ChunkSource;
  now: () => number;
  sleep: Sleep;
  concurrency: number;
  perNode: number;
  window: number;
  policy: RetryPolicy;
  choose: ChooseNode;
  stats: NodeStatsTable;
  emit: EventSink;
}

interface Slot {
  chunk: ManifestChunk;
  state: 'idle' | 'fetching' | 'ready' | 'failed';
  /** failures of this chunk per node */
  failures: Map<string, number>;
  /** nodes asked, in order, without repeats */
  tried: string[];
  plain?: Uint8Array;
  error?: unknown;
  waiter?: { resolve: (b: Uint8Array) => void; reject: (e: unknown) => void };
}

interface Request { slot: Slot; node: string; startedAt: number; controller: AbortController }

export class Scheduler {
  private readonly slots = new Map<number, Slot>();
  private readonly requests = new Set<Request>();
  private next: number;
  /** lowest index known to be unavailable: nothing past it is worth fetching */
  private failedAt = Infinity;
  private closed = false;
  private closeReason: unknown;
  private wakeAt = Infinity;
  private readonly life = new AbortController();

  constructor(private readonly o: SchedulerOptions) {
    this.next = o.first;
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
    for (const r of this.requests) {
      r.controller.abort(reason);
      noteAbandoned(statsFor(this.o.stats, r.node));
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
      s = { chunk: this.o.chunks[index], state: 'idle', failures: new Map(), tried: [] };
      this.slots.set(index, s);
    }
    return s;
  }

  private pump(): void {
    if (this.closed) return;
    const { window, concurrency, last } = this.o;
    const now = this.o.now();
    let wake = Infinity;
    const end = Math.min(last, this.next + window - 1, this.failedAt);
    for (let i = this.next; i <= end && this.requests.size < concurrency; i++) {
      const slot = this.slot(i);
      if (slot.state !== 'idle') continue;
      const t = this.startOne(slot, now);
      if (t !== null) wake = Math.min(wake, t);
    }
    if (wake < Infinity) this.wakeUp(wake, now);
  }

  /** Starts a request for an idle chunk; returns when to try again if every replica is backed off. */
  private startOne(slot: Slot, now: number): number | null {
    const maxTries = 1 + this.o.policy.retries;
    const candidates = slot.chunk.nodes
      .filter((id) => this.o.nodes.has(id) && (slot.failures.get(id) ?? 0) < maxTries)
      .map((id) => ({ node: statsFor(this.o.stats, id), failures: slot.failures.get(id) ?? 0 }));
    if (candidates.length === 0) {
      this.fail(slot);
      return null;
    }
    const pick = this.o.choose(candidates, { now, perNode: this.o.perNode });
    if (!pick) {
      // Busy nodes free up when a request ends (which pumps); backed-off ones need a wake-up.
      const until = Math.min(...candidates.map((c) => (c.node.backoffUntil > now ? c.node.backoffUntil : Infinity)));
      return until < Infinity ? until : null;
    }
    this.start(slot, pick.id, now);
    return null;
  }

  private start(slot: Slot, node: string, now: number): void {
    const req: Request = { slot, node, startedAt: now, controller: new AbortController() };
    this.requests.add(req);
    slot.state = 'fetching';
    if (!slot.tried.includes(node)) slot.tried.push(node);
    noteStart(statsFor(this.o.stats, node));
    this.o.emit({ type: 'chunk-request', index: slot.chunk.index, node, attempt: (slot.failures.get(node) ?? 0) + 1 });
    fetchChunk(this.o.source, slot.chunk, this.o.nodes.get(node)!, req.controller.signal).then(
      (got) => this.succeeded(req, got.plain, got.bytes),
      (err) => this.failed(req, err),
    );
  }

  private succeeded(req: Request, plain: Uint8Array, bytes: number): void {
    if (!this.requests.delete(req)) return; // closed meanwhile
    const now = this.o.now();
    const ms = now - req.startedAt;
    noteSuccess(statsFor(this.o.stats, req.node), bytes, ms);
    this.o.emit({ type: 'chunk-done', index: req.slot.chunk.index, node: req.node, bytes, ms });
    const { slot } = req;
    slot.state = 'ready';
    if (slot.waiter) slot.waiter.resolve(plain);
    else slot.plain = plain;
    slot.waiter = undefined;
    this.pump();
  }

  private failed(req: Request, err: unknown): void {
    if (!this.requests.delete(req)) return;
    const now = this.o.now();
    const { slot, node } = req;
    const code = err instanceof BunsanError ? err.code : 'node_unreachable';
    const message = err instanceof Error ? err.message : String(err);
    this.o.emit({ type: 'chunk-failed', index: slot.chunk.index, node, code, message });
    const stats = statsFor(this.o.stats, node);
    const until = noteFailure(stats, now, req.startedAt, this.o.policy);
    if (until !== null) this.o.emit({ type: 'node-backoff', node, until, failures: stats.consecutiveFailures });
    slot.failures.set(node, (slot.failures.get(node) ?? 0) + 1);
    slot.state = 'idle';
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
