// Standby mirrors (claim 6): registered nodes that hold nothing of the base placement and serve
// only while the network is short of egress. They wake when the demand passes wakeAt of the
// egress serving now, enough of them to bring the network back under the high water, largest
// first; they rest when the demand has stayed under restAt of the egress without them for a
// cool-down, emptiest first (the least to lose). The gap between the two marks and the cool-down
// keep a demand that hovers near one of them from waking and resting the same mirror in turn.
import { formatRate, type DemandPolicy } from './policy.ts';

export interface MirrorView { id: string; awake: boolean; since: number; egress: number; /** what it holds (bytes) */ held: number }

export interface MirrorInput {
  /** bytes/s the whole network delivers now (smoothed) */
  demand: number;
  /** egress of the serving non-mirror nodes */
  activeEgress: number;
  mirrors: MirrorView[];
  /** when demand was last above restAt of the egress without the awake mirrors */
  highSince: number | null;
  now: number;
  policy: DemandPolicy;
}

export interface MirrorDecision { wake: { id: string; reason: string }[]; rest: { id: string; reason: string }[] }

/** The next `highSince` for MirrorInput: now while the demand is above restAt of the egress without the awake mirrors. */
export function mirrorsHighSince(prev: number | null, demand: number, activeEgress: number, now: number, policy: DemandPolicy): number | null {
  return demand > policy.restAt * activeEgress ? now : prev;
}

const pct = (x: number) => `${Math.round(x * 100)} %`;

export function decideMirrors(i: MirrorInput): MirrorDecision {
  const p = i.policy;
  const awake = i.mirrors.filter((m) => m.awake);
  const serving = i.activeEgress + awake.reduce((t, m) => t + Math.max(0, m.egress), 0);
  const out: MirrorDecision = { wake: [], rest: [] };

  if (i.demand > p.wakeAt * serving) {
    const standby = i.mirrors.filter((m) => !m.awake && m.egress > 0).sort((a, b) => b.egress - a.egress || (a.id < b.id ? -1 : 1));
    let egress = serving;
    for (const m of standby) {
      if (i.demand <= p.highWater * egress) break;
      egress += m.egress;
      out.wake.push({ id: m.id, reason: `demand ${formatRate(i.demand)} over ${pct(p.wakeAt)} of the serving ${formatRate(serving)}` });
    }
    return out;
  }

  // Low for a cool-down: measured without the awake mirrors, so all of them may go; each has
  // served for at least a cool-down, so a mirror woken by a short peak is not rested at once.
  const lowFor = i.highSince === null ? Infinity : i.now - i.highSince;
  if (lowFor < p.coolDownMs || i.demand > p.restAt * i.activeEgress) return out;
  const resting = awake.filter((m) => i.now - m.since >= p.coolDownMs).sort((a, b) => a.held - b.held || (a.id < b.id ? -1 : 1));
  for (const m of resting) {
    out.rest.push({ id: m.id, reason: `demand ${formatRate(i.demand)} under ${pct(p.restAt)} of the ${formatRate(i.activeEgress)} without mirrors${lowFor === Infinity ? '' : ` for ${Math.round(lowFor / 60_000)} min`}` });
  }
  return out;
}
