// How many copies a content's chunks want from its demand: enough that each copy runs its node
// at no more than the high water, from the head first (viewers start at the beginning, and many
// never reach the end). Raised at once, a few copies per decision; lowered only after the demand
// has stayed under the low water for a cool-down, at most once per cool-down, never below base.
import { formatRate, type ContentDemand, type DemandPolicy } from './policy.ts';

/** A content's copies decision, kept by its manager between decisions. */
export interface CopiesState {
  /** copies per chunk wanted now, base ≤ current ≤ ceiling */
  current: number;
  /** chunks from the head that get `current` copies; the rest keep `base` (0 when current = base) */
  span: number;
  /** when `current` last rose, and when demand was last above the low water (cool-down runs from the later) */
  raisedAt: number;
  warmAt: number;
  /** why the last change, for operators ("demand 41 MB/s over 2 copies' 40 MB/s", "cooled for 10 min") */
  reason: string;
}

export interface CopiesInput {
  base: number;
  ceiling: number;
  chunkCount: number;
  demand: ContentDemand;
  /** egress (bytes/s) of a typical eligible node: the mean over the nodes that may hold copies */
  unitEgress: number;
  /** some holder of this content is hot and this content is a large part of that holder's load */
  holdersHot: boolean;
  state: CopiesState | null;
  now: number;
  policy: DemandPolicy;
}

export type CopiesChange = 'up' | 'down' | null;

/** Copies the demand asks for: each at most the high water of a typical node's egress (0: unknown). */
export function copiesWanted(rate: number, unitEgress: number, policy: DemandPolicy): number {
  if (!(unitEgress > 0) || !(rate > 0)) return 0;
  // A hair below an exact multiple counts as that multiple: float noise must not add a copy.
  return Math.ceil(rate / (policy.highWater * unitEgress) - 1e-9);
}

/** The span after a raise: the head first, then twice as far each time, up to the whole content. */
function widen(span: number, chunkCount: number, policy: DemandPolicy): number {
  const head = policy.headChunks > 0 ? policy.headChunks : chunkCount;
  return Math.min(chunkCount, span > 0 ? Math.max(span * 2, head) : head);
}

const minutes = (ms: number) => `${Math.round(ms / 60_000)} min`;

export function decideCopies(i: CopiesInput): { state: CopiesState; change: CopiesChange } {
  const p = i.policy;
  const base = i.base;
  const ceiling = Math.max(base, i.ceiling);
  const chunks = Math.max(0, i.chunkCount);
  const prev: CopiesState = i.state ?? { current: base, span: 0, raisedAt: 0, warmAt: i.now, reason: '' };
  const perCopy = p.highWater * i.unitEgress;
  // What one chunk's copies carry: its busiest chunk's demand when measured, else all of it.
  const rate = Math.max(0, i.demand.chunkRate ?? i.demand.rate);
  const known = i.unitEgress > 0;

  // The bounds may have moved since the last decision (policy, ceiling, a larger base).
  let current = Math.min(Math.max(prev.current, base), ceiling);
  let span = current > base ? Math.min(Math.max(prev.span, 1), chunks) : 0;
  const clipped = current < prev.current;

  // Warm: the copies are busy enough to keep (or a holder is hot, or nothing can be judged).
  const warm = i.holdersHot || !known || rate >= p.lowWater * i.unitEgress * current;
  const warmAt = warm ? i.now : prev.warmAt;
  let want = Math.min(Math.max(copiesWanted(rate, i.unitEgress, p), base), ceiling);
  if (i.holdersHot) want = Math.max(want, Math.min(current + 1, ceiling));

  const up = want > current || (current > base && want >= current && current === ceiling && span < chunks && known && rate > perCopy * current);
  if (up && chunks > 0) {
    const from = current;
    const step = Math.max(0, Math.min(p.maxStep, want - current));
    current += step;
    span = widen(from === base ? 0 : span, chunks, p);
    const why = i.holdersHot && copiesWanted(rate, i.unitEgress, p) <= from
      ? `a holder is hot (demand ${formatRate(rate)})`
      : `demand ${formatRate(rate)} over ${from} copies' ${formatRate(from * perCopy)}`;
    const reason = step > 0 ? `${why}: ${from} → ${current} copies on the first ${span} chunks` : `${why}: at the ceiling, extra copies on the first ${span} chunks`;
    return { state: { current, span, raisedAt: i.now, warmAt, reason }, change: 'up' };
  }

  const coolFor = i.now - Math.max(prev.raisedAt, prev.warmAt);
  if (!warm && current > base && coolFor >= p.coolDownMs) {
    const to = Math.max(base, want);
    if (to < current) {
      const reason = `cooled for ${minutes(coolFor)}: demand ${formatRate(rate)} under ${p.lowWater} of ${current} copies' egress: ${current} → ${to} copies`;
      current = to;
      if (current === base) span = 0;
      // The cool-down starts again: at most one lowering per cool-down.
      return { state: { current, span, raisedAt: prev.raisedAt, warmAt: i.now, reason }, change: 'down' };
    }
  }
  const reason = clipped ? `the ceiling is ${ceiling} copies` : prev.reason;
  return { state: { current, span, raisedAt: prev.raisedAt, warmAt, reason }, change: clipped ? 'down' : null };
}

/** Copies chunk `idx` should have under `state` (base outside the span). */
export function copiesFor(idx: number, base: number, state: CopiesState | null): number {
  if (!state || state.current <= base || idx >= state.span) return base;
  return state.current;
}
