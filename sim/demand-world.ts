// The world of the demand simulation: nodes with an egress each in regions, contents with
// Zipf-distributed popularity, viewers whose regions peak at their own local evening, and a
// flash crowd. Everything is drawn from hashes of the seed, so a run is exactly repeatable.
//
// Chunks are modelled coarsely: a content is a few *units*, each placed and served as one
// chunk would be: its first 16 chunks as four units of four (the head, where viewers start),
// then units of 16 chunks. A unit's holders carry all of its chunks' load, so load is more
// concentrated than with per-chunk placement — for both policies alike.
import { hash53 } from '../protocol/placement.ts';

export interface DemandConfig {
  nodes: number;
  regions: number;
  contents: number;
  /** contents from the most popular down that are followed unit by unit (the rest are a static background) */
  head: number;
  /** mean demand over the day as a fraction of all nodes' egress */
  utilisation: number;
  /** standby mirrors, a fraction of the nodes (policy b; in policy a they serve like any node) */
  mirrors: number;
  stepMinutes: number;
  /** minutes simulated before the measured day (copies settle after the start) */
  warmupMinutes: number;
  /** flash crowd: content rank, multiplier, start minute of the measured day, length in minutes */
  flash: { rank: number; factor: number; at: number; minutes: number };
  seed: number;
}

export const MiB = 1024 * 1024;
export const CHUNK = 4 * MiB;
export const BASE = 3;
const DAY = 24 * 60;

/** A uniform draw in [0, 1) from the seed and a label. */
export const draw = (seed: number, label: string) => hash53(`${seed}:${label}`) / 2 ** 53;

export interface World {
  cfg: DemandConfig;
  egress: Float64Array;
  region: Uint8Array;
  /** in policy b: a standby mirror */
  mirror: Uint8Array;
  /** units of content c: unitStart[c] .. unitStart[c + 1] */
  unitStart: Uint32Array;
  unitChunks: Uint16Array;
  /** the share of its content's viewing bytes that fall on the unit */
  unitWeight: Float64Array;
  unitKey: string[];
  /** each region's share of content c's viewers (c * regions + r) */
  share: Float64Array;
  /** Zipf weight of content c (sums to 1) */
  zipf: Float64Array;
  /** bytes/s scale: content c's demand from region r at minute t is scale × zipf × share × viewers(r, t) */
  scale: number;
  regionNames: string[];
}

/** Viewers in region r at minute t of the day (mean 1 over the day): a peak at 21:00 local time, regions of different sizes. */
export function viewers(w: World, r: number, minute: number): number {
  const R = w.cfg.regions;
  const size = (R - r) / ((R + 1) / 2); // the first region the largest; mean 1
  const local = minute + (r * DAY) / R; // each region in its own time zone, spread round the globe
  const f = (1 + Math.cos((2 * Math.PI * (local - 21 * 60)) / DAY)) / 2;
  return (size * (0.25 + 0.75 * f * f)) / (0.25 + 0.75 * 0.375);
}

/** The flash crowd's multiplier for content c at minute t of the measured day. */
export function flashFactor(w: World, c: number, minute: number): number {
  const f = w.cfg.flash;
  return c === f.rank - 1 && minute >= f.at && minute < f.at + f.minutes ? f.factor : 1;
}

/** The share of a content's viewing bytes on chunk k: most viewers start, fewer stay (1 / (1 + k/16)). */
const chunkWeight = (k: number) => 1 / (1 + k / 16);

export function buildWorld(cfg: DemandConfig): World {
  const { nodes: N, regions: R, contents: C, seed } = cfg;
  const egress = new Float64Array(N);
  const region = new Uint8Array(N);
  const mirror = new Uint8Array(N);
  for (let n = 0; n < N; n++) {
    region[n] = n % R;
    // 50 to 150 MB/s, mean 100.
    egress[n] = 50e6 + Math.floor(draw(seed, `egress${n}`) * 5) * 25e6;
    mirror[n] = Math.floor(n / R) % Math.round(1 / cfg.mirrors) === 0 ? 1 : 0;
  }
  const unitStart = new Uint32Array(C + 1);
  const chunks: number[] = [];
  for (let c = 0; c < C; c++) {
    // 8 to 400 chunks, log-uniform: clips to films.
    const n = Math.round(8 * Math.pow(50, draw(seed, `len${c}`)));
    chunks.push(n);
    unitStart[c + 1] = unitStart[c] + Math.min(4, Math.ceil(n / 4)) + Math.max(0, Math.ceil((n - 16) / 16));
  }
  const U = unitStart[C];
  const unitChunks = new Uint16Array(U);
  const unitWeight = new Float64Array(U);
  const unitKey = new Array<string>(U);
  for (let c = 0; c < C; c++) {
    let total = 0;
    for (let k = 0; k < chunks[c]; k++) total += chunkWeight(k);
    let k = 0;
    for (let u = unitStart[c]; u < unitStart[c + 1]; u++) {
      const len = Math.min(k < 16 ? 4 : 16, chunks[c] - k);
      let wsum = 0;
      for (let j = k; j < k + len; j++) wsum += chunkWeight(j);
      unitChunks[u] = len;
      unitWeight[u] = wsum / total;
      unitKey[u] = `${seed}:c${c}:u${u - unitStart[c]}`;
      k += len;
    }
  }
  // Half of a content's viewers in its home region, the rest spread evenly.
  const share = new Float64Array(C * R);
  const zipf = new Float64Array(C);
  let H = 0;
  for (let c = 0; c < C; c++) H += 1 / (c + 1);
  for (let c = 0; c < C; c++) {
    zipf[c] = 1 / ((c + 1) * H);
    const home = Math.floor(draw(seed, `home${c}`) * R);
    for (let r = 0; r < R; r++) share[c * R + r] = r === home ? 0.5 : 0.5 / (R - 1);
  }
  const w: World = {
    cfg, egress, region, mirror, unitStart, unitChunks, unitWeight, unitKey, share, zipf, scale: 0,
    regionNames: Array.from({ length: R }, (_, r) => `r${r}`),
  };
  // Scale so that the day's mean demand is `utilisation` of all egress.
  const byRegion = new Float64Array(R);
  for (let c = 0; c < C; c++) for (let r = 0; r < R; r++) byRegion[r] += zipf[c] * share[c * R + r];
  let mean = 0;
  for (let t = 0; t < DAY; t++) for (let r = 0; r < R; r++) mean += byRegion[r] * viewers(w, r, t);
  mean /= DAY;
  w.scale = (cfg.utilisation * egress.reduce((a, b) => a + b, 0)) / mean;
  return w;
}

export const unitBytes = (w: World, u: number) => w.unitChunks[u] * CHUNK;
