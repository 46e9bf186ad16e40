// The knobs of "demand shapes the network" (claims 4 and 6): when a node counts as hot, when a
// content's extra copies may go, how fast copies are added, and when standby mirrors wake and
// rest. Two water marks with a gap between them, and a cool-down, so that a demand hovering
// around one threshold never makes copies come and go.

export interface DemandPolicy {
  /** a node delivering more than this fraction of its egress is hot (takes no demand copies; hot contents' copies leave it) */
  highWater: number;
  /** below this fraction a node is cool again (hysteresis), and a content's extra copies may go */
  lowWater: number;
  /** how long demand must stay low before extra copies are removed, and a woken mirror rests */
  coolDownMs: number;
  /** most copies added per decision */
  maxStep: number;
  /** chunks from the head that get extra copies first (the first minutes of a video) */
  headChunks: number;
  /** mirrors wake when demand exceeds this fraction of the active nodes' egress */
  wakeAt: number;
  /** woken mirrors rest when demand stays below this fraction of the egress without them */
  restAt: number;
}

export const DEFAULT_DEMAND_POLICY: DemandPolicy = {
  highWater: 0.7,
  lowWater: 0.35,
  coolDownMs: 10 * 60_000,
  maxStep: 2,
  headChunks: 16,
  wakeAt: 0.8,
  restAt: 0.5,
};

export interface ContentDemand {
  /** bytes per second delivered for this content, smoothed (the short window) */
  rate: number;
  /** where its viewers are: share of requests per region (sums to 1; {} = unknown) */
  regions: Record<string, number>;
  /**
   * bytes/s of its busiest chunk, when measured (optional). Viewers of a video are spread over
   * its chunks, so a chunk's copies carry only that chunk's part of the demand; absent, the whole
   * rate is taken, as if every viewer were on the same chunk (a premiere, a live stream).
   */
  chunkRate?: number;
}

/** Hot above highWater × egress, cool again below lowWater × egress; in between it keeps `wasHot`. */
export function nodeHot(wasHot: boolean, load: number, egress: number, policy: DemandPolicy): boolean {
  // Unknown egress cannot be judged (callers pass the unit egress instead): nothing changes.
  if (!(egress > 0)) return wasHot;
  if (load > policy.highWater * egress) return true;
  if (load < policy.lowWater * egress) return false;
  return wasHot;
}

/** A rate for operators: "41 MB/s" (decimal megabytes, as link speeds are quoted). */
export function formatRate(bytesPerSecond: number): string {
  const mb = bytesPerSecond / 1e6;
  return `${mb >= 10 ? mb.toFixed(0) : mb >= 1 ? mb.toFixed(1) : mb.toFixed(2)} MB/s`;
}
