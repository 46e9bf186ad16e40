// One policy's network in the demand simulation: where every unit's copies are, the load each
// step puts on every node, and what it costs (bytes moved, bytes stored). Fixed replication
// places once; following demand (policy b) runs the manager's decisions from protocol/demand/
// every few steps on what it measured, smoothed, as a manager would.
import { copiesFor, decideCopies, type CopiesState } from '../protocol/demand/copies.ts';
import { decideMirrors, mirrorsHighSince, type MirrorView } from '../protocol/demand/mirrors.ts';
import { DEFAULT_DEMAND_POLICY, nodeHot, type ContentDemand, type DemandPolicy } from '../protocol/demand/policy.ts';
import { demandTargets, regionQuotas, type LoadedNode } from '../protocol/demand/targets.ts';
import { targetNodes, type PlanNode } from '../protocol/lifecycle/target.ts';
import { nodeSeed } from '../protocol/placement.ts';
import { serve, spill, type Served } from './demand-serve.ts';
import { BASE, draw, flashFactor, unitBytes, viewers, type World } from './demand-world.ts';

export interface PolicyResult {
  /** bytes served by nodes over their egress, over all bytes served */
  overloaded: number;
  /** bytes beyond the egress of overloaded nodes, over all bytes */
  excess: number;
  /** the same two during the flash crowd's hour */
  flashOverloaded: number;
  bytesMoved: number;
  avgStored: number;
  baseStored: number;
  maxCopies: number;
  peakMirrors: number;
  mirrorWakes: number;
  ups: number;
  downs: number;
}

export class DemandNetwork {
  readonly N: number;
  readonly R: number;
  readonly load: Float64Array;
  /** background load per node and viewer region, before the day's viewer factor */
  private readonly bg: Float64Array;
  private readonly tail: Float64Array;
  /** nodes holding base copies: where the tail's load can go */
  private readonly basePool: Int32Array;
  private readonly base: number[][] = [];
  private readonly extra: (number[] | undefined)[] = [];
  private readonly quotaSeen: string[] = [];
  private readonly ids: string[];
  private readonly serving: Uint8Array;
  private readonly awake: Uint8Array;
  private readonly since: Float64Array;
  // measured, smoothed
  private readonly sLoad: Float64Array;
  private readonly sRate: Float64Array;
  private readonly sUnitMax: Float64Array;
  private readonly sRegion: Float64Array;
  /** demand of each region's viewers, smoothed */
  private readonly sViewers: Float64Array;
  private readonly highSince: (number | null)[];
  private readonly hot: Uint8Array;
  private readonly topC: Int32Array;
  private readonly topAmt: Float64Array;
  private readonly curC: Int32Array;
  private readonly curAmt: Float64Array;
  private readonly states: (CopiesState | null)[];
  private extraBytes = 0;
  readonly stats = { bytesMoved: 0, ups: 0, downs: 0, mirrorWakes: 0, peakMirrors: 0, maxCopies: BASE };
  readonly policy: DemandPolicy;

  constructor(readonly w: World, readonly following: boolean, copiesOf: (c: number) => number) {
    const { cfg } = w;
    this.N = cfg.nodes;
    this.R = cfg.regions;
    // headChunks in units: the first 16 chunks are the first four units. maxStep 8: at 2 a
    // decision every 3 minutes a flash crowd needs over an hour to reach its copies.
    this.policy = { ...DEFAULT_DEMAND_POLICY, headChunks: 4, maxStep: 8 };
    this.ids = Array.from({ length: this.N }, (_, n) => `n${n}`);
    this.serving = new Uint8Array(this.N).map((_, n) => (following && w.mirror[n] ? 0 : 1));
    this.awake = new Uint8Array(this.N);
    this.since = new Float64Array(this.N);
    this.load = new Float64Array(this.N);
    this.bg = new Float64Array(this.N * this.R);
    this.tail = new Float64Array(this.N);
    this.basePool = Int32Array.from([...Array(this.N).keys()].filter((n) => this.serving[n]));
    this.sLoad = new Float64Array(this.N);
    this.hot = new Uint8Array(this.N);
    this.topC = new Int32Array(this.N).fill(-1);
    this.topAmt = new Float64Array(this.N);
    this.curC = new Int32Array(this.N).fill(-1);
    this.curAmt = new Float64Array(this.N);
    this.sRate = new Float64Array(cfg.head);
    this.sUnitMax = new Float64Array(cfg.head);
    this.sRegion = new Float64Array(cfg.head * this.R);
    this.states = new Array(cfg.head).fill(null);
    this.sViewers = new Float64Array(this.R);
    this.highSince = new Array(this.R).fill(null);
    this.place(copiesOf);
  }

  private planNodes(): PlanNode[] {
    const out: PlanNode[] = [];
    for (let n = 0; n < this.N; n++) {
      if (!this.serving[n]) continue;
      out.push({ id: this.ids[n], region: `r${this.w.region[n]}`, weight: this.w.egress[n] / 1e8, grade: 1, state: 'active', lost: false, full: false, seed: nodeSeed(this.ids[n]) });
    }
    return out;
  }

  /**
   * The base placement: the followed contents by the lifecycle's own targetNodes; the long tail
   * (tiny flows each) by a hashed weighted pick in distinct regions, the same spread at a
   * fraction of the cost, its load folded into a per-node background.
   */
  private place(copiesOf: (c: number) => number): void {
    const w = this.w;
    const nodes = this.planNodes();
    const at = new Map(this.ids.map((id, n) => [id, n]));
    for (let c = 0; c < w.cfg.head; c++) {
      for (let u = w.unitStart[c]; u < w.unitStart[c + 1]; u++) {
        this.base.push(targetNodes(w.unitKey[u], nodes, { replicas: copiesOf(c), minGrade: 0 }).map((id) => at.get(id)!));
      }
    }
    const byRegion: number[][] = Array.from({ length: this.R }, () => []);
    for (let n = 0; n < this.N; n++) if (this.serving[n]) byRegion[w.region[n]].push(n);
    const cum = byRegion.map((ns) => {
      let t = 0;
      return ns.map((n) => (t += w.egress[n]));
    });
    const seed = w.cfg.seed;
    for (let c = w.cfg.head; c < w.cfg.contents; c++) {
      const k = copiesOf(c);
      for (let u = w.unitStart[c]; u < w.unitStart[c + 1]; u++) {
        const regions = [...Array(this.R).keys()].sort((a, b) => draw(seed, `${w.unitKey[u]}/${a}`) - draw(seed, `${w.unitKey[u]}/${b}`));
        const hs: number[] = [];
        for (let j = 0; j < k; j++) {
          const r = regions[j % this.R];
          const x = draw(seed, `${w.unitKey[u]}#${j}`) * cum[r][cum[r].length - 1];
          let lo = 0;
          while (cum[r][lo] < x) lo++;
          if (!hs.includes(byRegion[r][lo])) hs.push(byRegion[r][lo]);
        }
        for (let r = 0; r < this.R; r++) {
          const d = w.scale * w.zipf[c] * w.share[c * this.R + r] * w.unitWeight[u];
          const near = hs.filter((n) => w.region[n] === r);
          const to = near.length ? near : hs;
          for (const n of to) this.bg[n * this.R + r] += d / to.length;
        }
      }
    }
  }

  /** Bytes the copies take: every unit's base copies (all contents), plus demand copies. */
  storedBytes(copiesOf: (c: number) => number, demandCopies = true): number {
    let b = 0;
    for (let c = 0; c < this.w.cfg.contents; c++) {
      let bytes = 0;
      for (let u = this.w.unitStart[c]; u < this.w.unitStart[c + 1]; u++) bytes += unitBytes(this.w, u);
      b += bytes * copiesOf(c);
    }
    return b + (demandCopies ? this.extraBytes : 0);
  }

  /** One step of `minutes` at minute t of the day: every flow served; returns [total, overloaded, excess] bytes/s. */
  step(t: number, measured: boolean, alpha: number): [number, number, number] {
    const { w, R, N } = this;
    const V = Array.from({ length: R }, (_, r) => viewers(w, r, ((t % 1440) + 1440) % 1440));
    const load = this.load;
    const byViewers = new Float64Array(R);
    for (let n = 0; n < N; n++) {
      let l = 0;
      for (let r = 0; r < R; r++) {
        l += this.bg[n * R + r] * V[r];
        byViewers[r] += this.bg[n * R + r] * V[r];
      }
      load[n] = l;
      this.tail[n] = l;
    }
    spill(load, w.egress, this.tail, this.basePool);
    this.topAmt.fill(0);
    this.curC.fill(-1);
    let c = 0;
    const s: Served = {
      load, egress: w.egress,
      give: (n, a) => {
        if (this.curC[n] !== c) {
          this.curC[n] = c;
          this.curAmt[n] = 0;
        }
        this.curAmt[n] += a;
        if (this.curAmt[n] > this.topAmt[n]) {
          this.topAmt[n] = this.curAmt[n];
          this.topC[n] = c;
        }
      },
    };
    const hs: number[] = [];
    for (c = 0; c < w.cfg.head; c++) {
      const f = measured ? flashFactor(w, c, t) : 1;
      const z = w.scale * w.zipf[c] * f;
      let rate = 0;
      let unitMax = 0;
      for (let u = w.unitStart[c]; u < w.unitStart[c + 1]; u++) {
        hs.length = 0;
        for (const n of this.base[u]) hs.push(n);
        const ex = this.extra[u];
        if (ex) for (const n of ex) hs.push(n);
        let ur = 0;
        for (let r = 0; r < R; r++) {
          const d = z * w.share[c * R + r] * V[r] * w.unitWeight[u];
          serve(s, hs, hs.length, w.region, r, d);
          byViewers[r] += d;
          ur += d;
          if (u === w.unitStart[c]) this.sRegion[c * R + r] += alpha * (z * w.share[c * R + r] * V[r] - this.sRegion[c * R + r]);
        }
        rate += ur;
        // Per chunk: a unit stands for a chunk of the model.
        unitMax = Math.max(unitMax, ur);
      }
      this.sRate[c] += alpha * (rate - this.sRate[c]);
      this.sUnitMax[c] += alpha * (unitMax - this.sUnitMax[c]);
    }
    spill(load, w.egress, this.tail, this.basePool);
    let total = 0;
    let over = 0;
    let excess = 0;
    for (let n = 0; n < N; n++) {
      total += load[n];
      if (load[n] > w.egress[n] * (1 + 1e-9)) {
        over += load[n];
        excess += load[n] - w.egress[n];
      }
      this.sLoad[n] += alpha * (load[n] - this.sLoad[n]);
    }
    for (let r = 0; r < R; r++) this.sViewers[r] += alpha * (byViewers[r] - this.sViewers[r]);
    return [total, over, excess];
  }

  /** The manager's decisions (policy b): hot nodes, mirrors, then each followed content's copies. */
  decide(now: number): void {
    const { w, N, R, policy: P } = this;
    for (let n = 0; n < N; n++) this.hot[n] = nodeHot(!!this.hot[n], this.sLoad[n], w.egress[n], P) ? 1 : 0;

    // Mirrors by region: a region's viewers against the egress of the region's own nodes, so that
    // a region's evening wakes the mirrors near it.
    const held = this.heldBytes();
    for (let r = 0; r < R; r++) {
      let activeEgress = 0;
      const views: MirrorView[] = [];
      for (let n = 0; n < N; n++) {
        if (w.region[n] !== r) continue;
        if (!w.mirror[n]) activeEgress += w.egress[n];
        else views.push({ id: this.ids[n], awake: !!this.awake[n], since: this.since[n], egress: w.egress[n], held: held[n] });
      }
      this.highSince[r] = mirrorsHighSince(this.highSince[r], this.sViewers[r], activeEgress, now, P);
      const m = decideMirrors({ demand: this.sViewers[r], activeEgress, mirrors: views, highSince: this.highSince[r], now, policy: P });
      for (const x of m.wake) {
        const n = Number(x.id.slice(1));
        this.awake[n] = 1;
        this.serving[n] = 1;
        this.since[n] = now;
        this.stats.mirrorWakes++;
      }
      for (const x of m.rest) {
        const n = Number(x.id.slice(1));
        this.awake[n] = 0;
        this.serving[n] = 0;
        this.since[n] = now;
        this.hot[n] = 0;
        for (let u = 0; u < this.extra.length; u++) {
          const ex = this.extra[u];
          if (ex?.includes(n)) {
            this.extra[u] = ex.filter((h) => h !== n);
            this.extraBytes -= unitBytes(w, u);
          }
        }
      }
    }
    let awake = 0;
    for (let n = 0; n < N; n++) awake += this.awake[n];
    this.stats.peakMirrors = Math.max(this.stats.peakMirrors, awake);

    const loaded: LoadedNode[] = [];
    let egressSum = 0;
    for (let n = 0; n < N; n++) {
      if (!this.serving[n]) continue;
      egressSum += w.egress[n];
      loaded.push({ id: this.ids[n], region: `r${w.region[n]}`, weight: w.egress[n] / 1e8, grade: 1, state: 'active', lost: false, full: false,
        seed: nodeSeed(this.ids[n]), egress: w.egress[n], load: this.sLoad[n], hot: !!this.hot[n], mirror: !!w.mirror[n] });
    }
    const unitEgress = egressSum / loaded.length;
    this.loadedCache = loaded;
    const hotTop = new Set<number>();
    for (let n = 0; n < N; n++) if (this.hot[n] && this.topC[n] >= 0 && this.topAmt[n] > 0.25 * this.load[n]) hotTop.add(this.topC[n]);

    for (let c = 0; c < w.cfg.head; c++) {
      let sum = 0;
      for (let r = 0; r < R; r++) sum += this.sRegion[c * R + r];
      const regions: Record<string, number> = {};
      for (let r = 0; r < R; r++) if (sum > 0) regions[`r${r}`] = this.sRegion[c * R + r] / sum;
      const demand: ContentDemand = { rate: this.sRate[c], regions, chunkRate: this.sUnitMax[c] };
      const units = w.unitStart[c + 1] - w.unitStart[c];
      const { state, change } = decideCopies({ base: BASE, ceiling: 48, chunkCount: units, demand, unitEgress, holdersHot: hotTop.has(c), state: this.states[c], now, policy: P });
      this.states[c] = state;
      if (change === 'up') this.stats.ups++;
      if (change === 'down') this.stats.downs++;
      this.stats.maxCopies = Math.max(this.stats.maxCopies, state.current);
      for (let i = 0; i < units; i++) this.retarget(w.unitStart[c] + i, copiesFor(i, BASE, state) - BASE, demand);
    }
  }

  /** A unit's demand copies: the targets again when anything they depend on moved; what is new is copied. */
  private retarget(u: number, extra: number, demand: ContentDemand): void {
    const cur = this.extra[u] ?? [];
    if (extra <= 0) {
      if (cur.length) this.extraBytes -= cur.length * unitBytes(this.w, u);
      this.extra[u] = undefined;
      return;
    }
    const quotas = JSON.stringify([...regionQuotas(demand.regions, extra)]);
    if (cur.length === extra && quotas === this.quotaSeen[u] && cur.every((n) => !this.hot[n] && this.serving[n])) return;
    this.quotaSeen[u] = quotas;
    const loaded = this.loadedCache!;
    const holding = new Set(cur.map((n) => this.ids[n]));
    const next = demandTargets(this.w.unitKey[u], this.base[u].map((n) => this.ids[n]), loaded, extra, demand, { minGrade: 0, holding }).map((id) => Number(id.slice(1)));
    const bytes = unitBytes(this.w, u);
    for (const n of next) if (!cur.includes(n)) this.stats.bytesMoved += bytes;
    this.extraBytes += (next.length - cur.length) * bytes;
    this.extra[u] = next;
  }

  private loadedCache: LoadedNode[] | null = null;

  /** Bytes of demand copies on each node. */
  private heldBytes(): Float64Array {
    const b = new Float64Array(this.N);
    for (let u = 0; u < this.extra.length; u++) for (const n of this.extra[u] ?? []) b[n] += unitBytes(this.w, u);
    return b;
  }
}
