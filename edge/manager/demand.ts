// Copies that follow demand (claims 4 and 6), the manager's side: from what its content's
// viewers asked for and what its nodes delivered, it decides how many copies each chunk should
// have now (protocol/demand/ decideCopies: raise at once, lower only after a cool-down, never
// below the upload's base) and where the extra ones go (demandTargets: the viewers' regions,
// woken mirrors first, never a hot node). The copies themselves are made and removed by the
// reconcile pass like any other (reconcile.ts): one way to move data.
import { copiesFor, decideCopies, type CopiesState } from '../../protocol/demand/copies.ts';
import { demandTargets } from '../../protocol/demand/targets.ts';
import { ManagerRegion, type ContentInfo } from '../../protocol/api.ts';
import { takesCopies } from '../../protocol/lifecycle/node-state.ts';
import { demandSettings, type DemandSettings } from '../demand-policy.ts';
import { logEvent } from '../registry/events.ts';
import type { DemandBook } from './demand-book.ts';
import type { ManagerDeps } from './deps.ts';
import type { Directory } from './directory.ts';
import { askReconcile } from './reconcile.ts';
import type { ChunkRow, ContentRecord } from './store.ts';
import type { PlanNode } from '../../protocol/lifecycle/target.ts';

const KEY = 'copies';
const CHANGES = 'copies-changes';
/** The viewers that count for a decision: those of the last quarter hour. */
const VIEWER_WINDOW_MS = 15 * 60_000;
/** A holder is pressed by this content when the content is at least this share of its load. */
const PRESSING_SHARE = 0.25;

type Change = { at: number; from: number; to: number; reason: string };

export const copiesState = (deps: ManagerDeps): CopiesState | null => deps.store.meta<CopiesState>(KEY);

/** The ceiling of a content's copies: the setting, never below its base, never more than the nodes that could hold them. */
function ceilingOf(record: ContentRecord, dir: Directory, s: DemandSettings): number {
  const takers = [...dir.values()].filter((n) => takesCopies(n.state) && !n.lost).length;
  return Math.max(record.replicas, Math.min(s.maxCopies, takers));
}

const unitEgress = (dir: Directory) => {
  const e = [...dir.values()].filter((n) => takesCopies(n.state)).map((n) => n.egress);
  return e.length ? e.reduce((a, b) => a + b, 0) / e.length : 1;
};

/**
 * What the decision sees of the demand now, only once enough distinct viewers asked (a flood
 * from one counts once). Copies are sized by what the busiest holder carries of this content
 * times the copies there are (`chunkRate`: what one copy would carry alone), not by the whole
 * content's rate: a long content's chunks are already spread over many nodes, and more copies of
 * each would not lower any node's load.
 */
function demandNow(deps: ManagerDeps, book: DemandBook, s: DemandSettings, copies: number) {
  const now = deps.now();
  const { viewers, regions } = book.viewers(now, VIEWER_WINDOW_MS);
  const rate = book.rate(now);
  const byNode = book.byNode(now);
  const busiest = Math.max(0, ...Object.values(byNode));
  const counts = viewers >= s.minViewers;
  return { rate: counts ? rate : 0, chunkRate: counts ? busiest * copies : 0, regions, viewers, measured: rate, byNode };
}

/**
 * Decides the copies again. Returns when to decide next (while copies are raised, the cool-down
 * must be watched even when no reading comes), or null.
 */
export async function decideDemand(deps: ManagerDeps, book: DemandBook, dir: Directory): Promise<number | null> {
  const record = deps.store.record();
  // A content being deleted (or not yet committed) has no demand worth a copy.
  if (!record || record.state !== 'committed') return null;
  const s = demandSettings(deps.env);
  const now = deps.now();
  const before = copiesState(deps);
  const demand = demandNow(deps, book, s, before?.current ?? record.replicas);
  const holdersHot = demand.rate > 0 && Object.entries(demand.byNode).some(([id, r]) => {
    const n = dir.get(id);
    return !!n && n.hot && r >= PRESSING_SHARE * n.load;
  });
  const { state, change } = decideCopies({
    base: record.replicas, ceiling: ceilingOf(record, dir, s), chunkCount: record.chunkCount,
    demand: { rate: demand.rate, chunkRate: demand.chunkRate, regions: demand.regions }, unitEgress: unitEgress(dir), holdersHot,
    state: before, now, policy: s.policy,
  });
  deps.store.setMeta(KEY, state);
  const from = before?.current ?? record.replicas;
  if (change) {
    const changes = [...(deps.store.meta<Change[]>(CHANGES) ?? []), { at: now, from, to: state.current, reason: state.reason }].slice(-20);
    deps.store.setMeta(CHANGES, changes);
    await logEvent(deps.env.DB, {
      at: now, kind: change === 'up' ? 'copies-raised' : 'copies-lowered', content: record.id,
      detail: { from, to: state.current, span: state.span, base: record.replicas, reason: state.reason, rate: Math.round(demand.measured), viewers: demand.viewers },
    }).run();
  }
  // Raised copies follow the load (a node turning hot, a mirror waking): each decision looks again.
  if (change || state.current > record.replicas) askReconcile(deps, change ? `demand: ${state.reason}` : 'demand');
  return state.current > record.replicas ? now + Math.max(5_000, s.policy.coolDownMs / 4) : null;
}

/**
 * The extra copies of one chunk for the reconcile's plan: none at the base; otherwise where
 * demandTargets puts them. Undefined when the chunk has only its base.
 */
export function extraFor(deps: ManagerDeps, record: ContentRecord, dir: Directory) {
  const state = copiesState(deps);
  const book = deps.book;
  if (!state || state.current <= record.replicas || !book) return () => undefined;
  const { regions } = book.viewers(deps.now(), VIEWER_WINDOW_MS);
  const demand = { rate: book.rate(deps.now()), regions };
  const nodes = [...dir.values()];
  return (chunk: ChunkRow) => {
    const want = copiesFor(chunk.idx, record.replicas, state);
    if (want <= record.replicas) return undefined;
    return (base: string[], holding: ReadonlySet<string>) =>
      demandTargets(chunk.hash!, base, nodes, want - record.replicas, demand, { minGrade: record.minGrade ?? 0, holding });
  };
}

/**
 * Where this content's manager should be, when its viewers have moved for good (claim 7): one
 * other region holding most of them, over the whole window, and enough of them to judge. Null:
 * where it is. Regions are the platform's location hints (edge/portal/viewer.ts names viewers'
 * regions the same way), so anything else (a local stack's own names) never moves a manager.
 */
export function managerHome(deps: ManagerDeps, book: DemandBook, here: string | null): ManagerRegion | null {
  const s = demandSettings(deps.env).move;
  const now = deps.now();
  const long = book.longViewers(now, s.afterMs);
  if (long.viewers < s.minViewers) return null;
  const [top, share] = Object.entries(long.regions).sort((a, b) => b[1] - a[1])[0] ?? [];
  const region = ManagerRegion.safeParse(top);
  if (!region.success || region.data === here || share < s.share) return null;
  // The last hour must agree: a region that led a day ago but not now is not where viewers are.
  const recent = book.viewers(now, Math.min(s.afterMs, 3_600_000)).regions[region.data] ?? 0;
  return recent >= s.share ? region.data : null;
}

/** A hot node ranks at this share of its weight for a content whose copies are raised. */
const HOT_WEIGHT = 0.5;

/**
 * The directory as a hot content plans its base copies: a node that runs hot ranks at half its
 * weight, so rendezvous moves about a share of the content's chunks on it to cooler nodes — by
 * copy-then-delete, like any change of target — while nodes equally hot keep their order. Only
 * while the content's copies are raised: its demand is what the node sheds.
 */
export function planNodesFor(deps: ManagerDeps, record: ContentRecord, dir: Directory): Map<string, PlanNode> {
  const state = copiesState(deps);
  if (!state || state.current <= record.replicas || ![...dir.values()].some((n) => n.hot)) return dir;
  return new Map([...dir].map(([id, n]) => [id, n.hot ? { ...n, weight: n.weight * HOT_WEIGHT } : n]));
}

/** The operator's view: demand over its windows, and the copies with why they changed. */
export function demandInfo(deps: ManagerDeps, record: ContentRecord, book: DemandBook, dir: Directory): Pick<ContentInfo, 'demand' | 'copies'> {
  const s = demandSettings(deps.env);
  const now = deps.now();
  const state = copiesState(deps);
  return {
    demand: {
      rate: Math.round(book.rate(now)),
      windows: book.windows(now),
      regions: book.viewers(now, VIEWER_WINDOW_MS).regions,
    },
    copies: {
      base: record.replicas, current: state?.current ?? record.replicas, ceiling: ceilingOf(record, dir, s), span: state?.span ?? 0,
      reason: state?.reason ?? 'base: no demand measured yet',
      changes: deps.store.meta<Change[]>(CHANGES) ?? [],
    },
  };
}
