// A small model of the network for the planning tests: nodes that hold bytes (or lose them),
// a manager's record of every copy, and the execution of plans one action at a time, any of
// which may be cut off. The real managers run the same planChunk; here nothing but the plan
// decides what moves.
import { toHex } from '../../protocol/bytes.ts';
import { planChunk, type ChunkPlan, type CopyState, type Holder } from '../../protocol/lifecycle/plan.ts';
import type { NodeState } from '../../protocol/lifecycle/node-state.ts';
import type { PlanNode } from '../../protocol/lifecycle/target.ts';
import type { WanderInput } from '../../protocol/lifecycle/wander.ts';

/** Chunk addresses as the system has them: 64 hex digits, uniform. */
export const hashes = (n: number, seed = 1) => Array.from({ length: n }, (_, i) => {
  const b = new Uint8Array(32);
  let x = (i + 1) * 2654435761 + seed * 40503;
  for (let j = 0; j < 32; j++) {
    x = Math.imul(x ^ (x >>> 15), 0x2c1b3c6d) + j;
    b[j] = (x >>> 8) & 0xff;
  }
  return toHex(b);
});

export interface ModelNode extends PlanNode {
  /** chunk keys physically on the node */
  data: Set<string>;
  /** killed for good: its bytes are gone */
  destroyed: boolean;
  recoveredAt: number;
}

interface Record { state: 'stored' | 'pending' | 'deleting'; verifiedAt: number }

export class Model {
  readonly nodes = new Map<string, ModelNode>();
  /** chunk → node → the manager's record */
  readonly records = new Map<string, Map<string, Record>>();
  clock = 1;
  /** a wandering content: its period and salt, and the time the plans are made at */
  wander: Omit<WanderInput, 'now'> | null = null;
  now = 0;
  private nextId = 1;

  constructor(readonly replicas: number, readonly chunks: string[]) {}

  addNode(region: string, state: NodeState = 'active'): string {
    const id = `n${this.nextId++}`;
    this.nodes.set(id, { id, region, weight: 1, grade: 1, state, lost: false, full: false, data: new Set(), destroyed: false, recoveredAt: 0 });
    return id;
  }

  /** Places every chunk on its target, as a committed upload leaves it. */
  upload(): void {
    for (const key of this.chunks) {
      this.records.set(key, new Map());
      for (const id of planChunk(this.input(key)).target) {
        this.nodes.get(id)!.data.add(key);
        this.records.get(key)!.set(id, { state: 'stored', verifiedAt: this.clock });
      }
    }
  }

  holders(key: string): Holder[] {
    return [...(this.records.get(key) ?? [])].map(([node, r]) => {
      const n = this.nodes.get(node);
      const suspect = r.state === 'stored' && !!n && r.verifiedAt < n.recoveredAt;
      return { node, state: (suspect ? 'suspect' : r.state) as CopyState };
    });
  }

  input(key: string) {
    return {
      key, replicas: this.replicas, minGrade: 0, holders: this.holders(key), nodes: this.nodes as Map<string, PlanNode>,
      ...(this.wander ? { wander: { ...this.wander, now: this.now } } : {}),
    };
  }

  plan(key: string): ChunkPlan {
    return planChunk(this.input(key));
  }

  private up(id: string) {
    const n = this.nodes.get(id);
    return !!n && n.state !== 'down' && n.state !== 'retired';
  }

  /**
   * Carries out one chunk's plan; `cut(i)` true stops after action i (a crash, a restart). A
   * copy that arrived but was not yet verified stays `pending`, as in a real interruption.
   */
  execute(key: string, cut: (i: number) => boolean = () => false): void {
    const p = this.plan(key);
    const rec = this.records.get(key)!;
    let i = 0;
    for (const d of p.drops) {
      if (cut(i++)) return;
      rec.delete(d.node);
    }
    for (const id of p.checks) {
      if (cut(i++)) return;
      if (this.nodes.get(id)!.data.has(key)) rec.set(id, { state: 'stored', verifiedAt: ++this.clock });
      else rec.delete(id);
    }
    for (const c of p.copies) {
      const from = c.from.find((s) => this.up(s) && this.nodes.get(s)!.data.has(key));
      if (!from || !this.up(c.to)) continue;
      rec.set(c.to, { state: 'pending', verifiedAt: 0 });
      if (cut(i++)) return;
      this.nodes.get(c.to)!.data.add(key);
      if (cut(i++)) return;
      rec.set(c.to, { state: 'stored', verifiedAt: ++this.clock });
    }
    // Deletes come last, on a plan made after the copies were recorded (as the manager replans).
    const after = this.plan(key);
    for (const d of after.deletes) {
      if (cut(i++)) return;
      const r = rec.get(d.node);
      if (r) r.state = 'deleting';
      if (cut(i++)) return;
      this.nodes.get(d.node)!.data.delete(key);
      rec.delete(d.node);
    }
  }

  /** Plans and carries out every chunk until nothing is left to do (bounded). */
  settle(rounds = 8): void {
    for (let r = 0; r < rounds; r++) {
      let busy = false;
      for (const key of this.chunks) {
        const p = this.plan(key);
        if (p.copies.length || p.deletes.length || p.drops.length || p.checks.length) {
          busy = true;
          this.execute(key);
        }
      }
      if (!busy) return;
    }
  }

  setState(id: string, state: NodeState): void {
    const n = this.nodes.get(id)!;
    n.state = state;
    n.lost = false;
  }

  /** A node stops answering; `forGood` destroys its bytes. */
  fail(id: string, forGood: boolean): void {
    const n = this.nodes.get(id)!;
    n.state = 'down';
    if (forGood) {
      n.destroyed = true;
      n.data.clear();
    }
  }

  /** The grace period of a down node ends: its copies count as lost. */
  expire(id: string): void {
    this.nodes.get(id)!.lost = true;
  }

  /** A down node (not destroyed) answers again: it rejoins, and its old copies are checked. */
  restart(id: string): void {
    const n = this.nodes.get(id)!;
    n.state = 'joining';
    n.lost = false;
    n.recoveredAt = ++this.clock;
  }

  /** Bytes of chunk `key` that physically exist on nodes that still have them. */
  copiesOf(key: string): number {
    let n = 0;
    for (const node of this.nodes.values()) if (!node.destroyed && node.data.has(key)) n++;
    return n;
  }
}
