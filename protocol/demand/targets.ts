// Where a chunk's copies beyond its base target go. The base target is the lifecycle's
// (protocol/lifecycle/target.ts) and is left alone; demand copies go on top of it, near the
// viewers: each region gets its share of them (largest remainder), woken mirrors first, then
// the rendezvous rank of the chunk, so the same nodes come out from one decision to the next
// and copies do not churn. A hot node takes none, and loses the ones it has.
import { keyBits, rendezvousScore } from '../placement.ts';
import { takesCopies } from '../lifecycle/node-state.ts';
import { eligible, type PlanNode } from '../lifecycle/target.ts';
import type { ContentDemand } from './policy.ts';

export interface LoadedNode extends PlanNode {
  /** bytes/s it can deliver (0: unknown → treated as the unit egress by callers) */
  egress: number;
  /** bytes/s it delivered, smoothed */
  load: number;
  /** hot by nodeHot (hysteresis kept by the caller) */
  hot: boolean;
  /** a woken standby mirror: takes only demand copies, preferred for them */
  mirror: boolean;
}

/** Seats per region in proportion to the shares, by largest remainder (ties by region name). */
export function regionQuotas(shares: Record<string, number>, seats: number): Map<string, number> {
  const entries = Object.entries(shares).filter(([, s]) => s > 0 && Number.isFinite(s)).sort((a, b) => (a[0] < b[0] ? -1 : 1));
  const total = entries.reduce((t, [, s]) => t + s, 0);
  const out = new Map<string, number>();
  if (total <= 0 || seats <= 0) return out;
  const rest: { r: string; frac: number }[] = [];
  let given = 0;
  for (const [r, s] of entries) {
    const exact = (seats * s) / total;
    const q = Math.floor(exact);
    out.set(r, q);
    given += q;
    rest.push({ r, frac: exact - q });
  }
  rest.sort((a, b) => b.frac - a.frac || (a.r < b.r ? -1 : 1));
  for (let i = 0; given < seats && i < rest.length; i++, given++) out.set(rest[i].r, out.get(rest[i].r)! + 1);
  return out;
}

interface Cand { n: LoadedNode; s: number; holds: boolean }

/** Holders keep their place, then woken mirrors, then the rendezvous rank (ties by id). */
const better = (a: Cand, b: Cand) =>
  Number(b.holds) - Number(a.holds) || Number(b.n.mirror) - Number(a.n.mirror) || b.s - a.s || (a.n.id < b.n.id ? -1 : 1);

/**
 * Where a chunk's copies beyond its base target go, best first, `extra` of them at most: nodes not
 * in `base`, eligible (protocol/lifecycle/target.ts `eligible`, with `holding`), not hot, with spare
 * egress; spread over the demand's regions in proportion to their shares (largest remainder), woken
 * mirrors first within a region, then rendezvous rank on `key` (stable from one decision to the
 * next, so copies do not churn); nodes already holding the chunk keep their place while they are
 * not hot. Fewer when not enough such nodes.
 */
export function demandTargets(key: string, base: string[], nodes: Iterable<LoadedNode>, extra: number,
  demand: ContentDemand, opts: { minGrade: number; holding?: ReadonlySet<string> }): string[] {
  if (!(extra > 0)) return [];
  const inBase = new Set(base);
  const bits = keyBits(key);
  const holding = opts.holding;
  const byRegion = new Map<string, Cand[]>();
  const all: Cand[] = [];
  for (const n of nodes) {
    if (inBase.has(n.id) || n.hot) continue;
    if (!eligible(n, { replicas: 0, minGrade: opts.minGrade, holding })) continue;
    const holds = !!holding?.has(n.id);
    // A new copy needs a node that receives and has egress to spare; a holder keeps its place.
    if (!holds && (!takesCopies(n.state) || (n.egress > 0 && n.load >= n.egress))) continue;
    const c: Cand = { n, s: rendezvousScore(n, bits), holds };
    all.push(c);
    const list = byRegion.get(n.region);
    if (list) list.push(c);
    else byRegion.set(n.region, [c]);
  }
  const quotas = regionQuotas(demand.regions, Math.min(extra, all.length));
  const chosen: Cand[] = [];
  const taken = new Set<Cand>();
  // Regions with more viewers first, so that "best first" puts the busiest region's copies ahead.
  const order = [...quotas.entries()].sort((a, b) => (demand.regions[b[0]] ?? 0) - (demand.regions[a[0]] ?? 0) || (a[0] < b[0] ? -1 : 1));
  for (const [region, quota] of order) {
    const list = (byRegion.get(region) ?? []).sort(better);
    for (const c of list.slice(0, quota)) {
      chosen.push(c);
      taken.add(c);
    }
  }
  // Seats a region could not fill (too few nodes there) go to the best of the rest, holders and
  // regions with viewers first.
  if (chosen.length < extra) {
    const wanted = (c: Cand) => Number((demand.regions[c.n.region] ?? 0) > 0);
    const rest = all.filter((c) => !taken.has(c)).sort((a, b) => Number(b.holds) - Number(a.holds) || wanted(b) - wanted(a) || better(a, b));
    for (const c of rest.slice(0, extra - chosen.length)) chosen.push(c);
  }
  return chosen.map((c) => c.n.id);
}
