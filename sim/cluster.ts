// An in-memory network for the simulation: nodes in regions, chunks of given sizes, and for
// each chunk the manager's record of its copies. Every decision is the real planning code
// (protocol/lifecycle/plan.ts over protocol/lifecycle/target.ts); the cluster only carries the
// plans out, instantly, within a per-node budget of copies per sweep, and counts what moved.
import { toHex } from '../protocol/bytes.ts';
import { planChunk, type ChunkPlan, type CopyState, type Holder } from '../protocol/lifecycle/plan.ts';
import type { NodeState } from '../protocol/lifecycle/node-state.ts';
import type { PlanNode } from '../protocol/lifecycle/target.ts';
import { hash53, keyBits, nodeSeed, rendezvousScore } from '../protocol/placement.ts';

/** Copies per chunk the records can hold (the target, plus surplus while a move is under way). */
const SLOTS = 8;
const STATES: CopyState[] = ['stored', 'pending', 'suspect', 'deleting'];

export interface SimNode extends PlanNode { destroyed: boolean }

export interface SweepStats { copies: number; bytes: number; deletes: number; drops: number; checks: number; deferred: number }

export class Cluster {
  readonly nodes: SimNode[] = [];
  readonly byId = new Map<string, SimNode>();
  private readonly at = new Map<string, number>();
  readonly keys: string[];
  readonly sizes: Uint32Array;
  /** holders[c * SLOTS + j]: node index, or -1 */
  private readonly holders: Int16Array;
  private readonly states: Uint8Array;
  private nextId = 1;

  constructor(readonly replicas: number, chunks: number, sizeOf: (i: number) => number, seed = 1) {
    this.keys = new Array(chunks);
    this.sizes = new Uint32Array(chunks);
    const b = new Uint8Array(32);
    for (let i = 0; i < chunks; i++) {
      // Chunk addresses are SHA-256 digests: uniform 64 hex digits, made here from the index.
      for (let j = 0; j < 32; j += 6) {
        const h = hash53(`${seed}:${i}:${j}`);
        for (let k = 0; k < 6 && j + k < 32; k++) b[j + k] = Math.floor(h / 2 ** (8 * k)) & 0xff;
      }
      this.keys[i] = toHex(b);
      this.sizes[i] = sizeOf(i);
    }
    this.holders = new Int16Array(chunks * SLOTS).fill(-1);
    this.states = new Uint8Array(chunks * SLOTS);
  }

  get chunkCount() { return this.keys.length; }

  addNode(region: string, state: NodeState = 'active', weight = 1): SimNode {
    const id = `n${this.nextId++}`;
    const n: SimNode = { id, region, weight, grade: 1, state, lost: false, full: false, seed: nodeSeed(id), destroyed: false };
    this.at.set(id, this.nodes.length);
    this.nodes.push(n);
    this.byId.set(id, n);
    return n;
  }

  private index(id: string): number {
    return this.at.get(id)!;
  }

  holdersOf(c: number): Holder[] {
    const out: Holder[] = [];
    for (let j = 0; j < SLOTS; j++) {
      const n = this.holders[c * SLOTS + j];
      if (n >= 0) out.push({ node: this.nodes[n].id, state: STATES[this.states[c * SLOTS + j]] });
    }
    return out;
  }

  private setHolder(c: number, id: string, state: CopyState | null): void {
    const n = this.index(id);
    let free = -1;
    for (let j = 0; j < SLOTS; j++) {
      const at = c * SLOTS + j;
      if (this.holders[at] === n) {
        if (state === null) this.holders[at] = -1;
        else this.states[at] = STATES.indexOf(state);
        return;
      }
      if (this.holders[at] < 0 && free < 0) free = at;
    }
    if (state === null) return;
    if (free < 0) throw new Error(`chunk ${c} has more than ${SLOTS} copies`);
    this.holders[free] = n;
    this.states[free] = STATES.indexOf(state);
  }

  plan(c: number): ChunkPlan {
    return planChunk({ key: this.keys[c], replicas: this.replicas, minGrade: 0, holders: this.holdersOf(c), nodes: this.byId });
  }

  /** An upload: every chunk stored on its target. */
  place(): void {
    for (let c = 0; c < this.chunkCount; c++) for (const id of this.plan(c).target) this.setHolder(c, id, 'stored');
  }

  /** Chunks whose copies a node holds. */
  chunksOn(id: string): number[] {
    return this.chunksOnAny([id]);
  }

  /** Chunks with a copy on any of the nodes, in one pass. */
  chunksOnAny(ids: string[]): number[] {
    const want = new Uint8Array(this.nodes.length);
    for (const id of ids) want[this.index(id)] = 1;
    const out: number[] = [];
    for (let c = 0; c < this.chunkCount; c++) {
      for (let j = 0; j < SLOTS; j++) {
        const n = this.holders[c * SLOTS + j];
        if (n >= 0 && want[n]) {
          out.push(c);
          break;
        }
      }
    }
    return out;
  }

  /** Bytes of the copies each node holds, by node id, in one pass. */
  bytesByNode(): Map<string, number> {
    const bytes = new Float64Array(this.nodes.length);
    for (let c = 0; c < this.chunkCount; c++) {
      for (let j = 0; j < SLOTS; j++) {
        const n = this.holders[c * SLOTS + j];
        if (n >= 0) bytes[n] += this.sizes[c];
      }
    }
    return new Map(this.nodes.map((n, i) => [n.id, bytes[i]]));
  }

  /**
   * Chunks a newly eligible node may belong to: those where it outranks the weakest current
   * holder (a superset of where it enters the target; each is then planned exactly).
   */
  chunksWon(id: string): number[] {
    const x = this.byId.get(id)!;
    const out: number[] = [];
    for (let c = 0; c < this.chunkCount; c++) {
      const bits = keyBits(this.keys[c]);
      const sx = rendezvousScore(x, bits);
      let weakest = Infinity;
      let held = 0;
      for (let j = 0; j < SLOTS; j++) {
        const n = this.holders[c * SLOTS + j];
        if (n < 0) continue;
        held++;
        weakest = Math.min(weakest, rendezvousScore(this.nodes[n], bits));
      }
      if (held < this.replicas || sx > weakest) out.push(c);
    }
    return out;
  }

  /** Verified copies on nodes that serve, per chunk in `chunks`: the smallest (the plan's `serving`, counted directly). */
  minServing(chunks: Iterable<number>): number {
    let min = Infinity;
    const stored = STATES.indexOf('stored');
    for (const c of chunks) {
      let n = 0;
      for (let j = 0; j < SLOTS; j++) {
        const h = this.holders[c * SLOTS + j];
        if (h < 0 || this.states[c * SLOTS + j] !== stored) continue;
        const s = this.nodes[h].state;
        if (s === 'joining' || s === 'active' || s === 'draining') n++;
      }
      min = Math.min(min, n);
    }
    return min === Infinity ? this.replicas : min;
  }

  /** Chunks with no copy left anywhere (records on destroyed nodes do not count). */
  lost(chunks: Iterable<number>): number {
    let n = 0;
    for (const c of chunks) {
      let any = false;
      for (let j = 0; j < SLOTS; j++) {
        const h = this.holders[c * SLOTS + j];
        if (h >= 0 && !this.nodes[h].destroyed && this.states[c * SLOTS + j] !== STATES.indexOf('pending')) any = true;
      }
      if (!any) n++;
    }
    return n;
  }

  /**
   * One sweep over `chunks`: each plans and carries its plan out (forget lost copies, check
   * returning ones, copy within the per-node budget, then delete surplus once the copies are
   * verified). Returns what moved and the chunks that still have work.
   */
  sweep(chunks: number[], budgetPerNode: number): { stats: SweepStats; left: number[] } {
    const used = new Map<string, number>();
    const room = (id: string) => (used.get(id) ?? 0) < budgetPerNode;
    const take = (id: string) => used.set(id, (used.get(id) ?? 0) + 1);
    const stats: SweepStats = { copies: 0, bytes: 0, deletes: 0, drops: 0, checks: 0, deferred: 0 };
    const left: number[] = [];
    for (const c of chunks) {
      let p = this.plan(c);
      // Forgetting copies on nodes that are gone changes nothing else the plan says (they were
      // neither sources nor targets); a check does (a copy that verifies is not copied again).
      for (const d of p.drops) { this.setHolder(c, d.node, null); stats.drops++; }
      if (p.checks.length) {
        for (const id of p.checks) {
          this.setHolder(c, id, this.byId.get(id)!.destroyed ? null : 'stored');
          stats.checks++;
        }
        p = this.plan(c);
      }
      let deferred = false;
      let copied = false;
      for (const cp of p.copies) {
        const from = cp.from.find((s) => room(s));
        if (!from || !room(cp.to)) {
          stats.deferred++;
          deferred = true;
          continue;
        }
        take(from); take(cp.to);
        this.setHolder(c, cp.to, 'stored');
        stats.copies++;
        stats.bytes += this.sizes[c];
        copied = true;
      }
      // Surplus copies can go once the new ones are verified: a plan made after them says which.
      if (copied) p = this.plan(c);
      for (const d of p.deletes) { this.setHolder(c, d.node, null); stats.deletes++; }
      if (deferred) left.push(c);
    }
    return { stats, left };
  }

  /** Sweeps until nothing is left to do (or `max` sweeps): how many it took and what moved. */
  settle(chunks: number[], budgetPerNode: number, max = 100): { sweeps: number; stats: SweepStats } {
    const total: SweepStats = { copies: 0, bytes: 0, deletes: 0, drops: 0, checks: 0, deferred: 0 };
    let todo = chunks;
    let sweeps = 0;
    while (todo.length > 0 && sweeps < max) {
      const { stats, left } = this.sweep(todo, budgetPerNode);
      sweeps++;
      for (const k of Object.keys(total) as (keyof SweepStats)[]) total[k] += stats[k];
      if (stats.copies + stats.deletes + stats.drops + stats.checks === 0) break;
      todo = left;
    }
    return { sweeps, stats: total };
  }

  /** A node back from down: the copies it held are checked before they count again. */
  markSuspect(id: string): void {
    for (const c of this.chunksOn(id)) this.setHolder(c, id, 'suspect');
  }

  /** Bytes the copies on `id` add up to. */
  bytesOn(id: string): number {
    return this.bytesByNode().get(id) ?? 0;
  }
}
