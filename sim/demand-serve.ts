// How requests are served in the demand simulation, the way the engine chooses: a holder in the
// viewer's region while one has room, otherwise the least loaded holder anywhere. Many viewers
// choosing by load amount to water-filling: a flow of demand goes to the least loaded holders
// first, raising them together. What the step measures: bytes served by nodes over their egress.

/** Scratch for one flow's holders (a unit has at most a few dozen). */
const order = new Int32Array(256);

export interface Served {
  load: Float64Array;
  egress: Float64Array;
  /** called with each (node, bytes/s) given out */
  give: (n: number, amount: number) => void;
}

/**
 * Water-fills `d` over the nodes list[0..k) up to utilisation `cap`: the least utilised first,
 * all raised to one level. Returns what is left (when every node reached `cap`).
 */
function fill(s: Served, list: ArrayLike<number>, k: number, d: number, cap: number): number {
  const { load, egress } = s;
  for (let i = 0; i < k; i++) {
    const n = list[i];
    const u = load[n] / egress[n];
    let j = i;
    while (j > 0 && load[order[j - 1]] / egress[order[j - 1]] > u) {
      order[j] = order[j - 1];
      j--;
    }
    order[j] = n;
  }
  let E = 0;
  let L = 0;
  let level = cap;
  let m = k;
  for (let i = 0; i < k; i++) {
    const n = order[i];
    E += egress[n];
    L += load[n];
    const next = i + 1 < k ? load[order[i + 1]] / egress[order[i + 1]] : Infinity;
    const lvl = (L + d) / E;
    if (lvl <= next && lvl <= cap) {
      level = lvl;
      m = i + 1;
      break;
    }
    if (cap <= next) {
      level = cap;
      m = i + 1;
      break;
    }
  }
  for (let i = 0; i < m && d > 0; i++) {
    const n = order[i];
    const add = Math.min(d, level * egress[n] - load[n]);
    if (add <= 0) continue;
    load[n] += add;
    s.give(n, add);
    d -= add;
  }
  return d < 1e-6 * (E || 1) ? 0 : d;
}

const local = new Int32Array(256);

/** Serves `d` bytes/s from viewers in region `r` by the holders `hs`. */
export function serve(s: Served, hs: ArrayLike<number>, k: number, regionOf: Uint8Array, r: number, d: number): void {
  if (d <= 0 || k === 0) return;
  let nl = 0;
  for (let i = 0; i < k; i++) if (regionOf[hs[i]] === r) local[nl++] = hs[i];
  if (nl > 0) d = fill(s, local, nl, d, 1);
  if (d > 0) fill(s, hs, k, d, Infinity);
}

/**
 * Load of the long tail moved off overloaded nodes to the least utilised of `pool`. Each tail
 * unit has holders all over the network and its flows are tiny, so in aggregate its viewers
 * find a holder with room wherever one is; only what finds none stays over the egress.
 */
export function spill(load: Float64Array, egress: Float64Array, tail: Float64Array, pool: Int32Array): void {
  let moved = 0;
  for (const n of pool) {
    const over = load[n] - egress[n];
    if (over <= 0 || tail[n] <= 0) continue;
    const off = Math.min(over, tail[n]);
    load[n] -= off;
    tail[n] -= off;
    moved += off;
  }
  if (moved <= 0) return;
  const sorted = Array.from(pool).sort((a, b) => load[a] / egress[a] - load[b] / egress[b]);
  // The level up to which the least utilised nodes are filled (at most their egress).
  let E = 0;
  let L = 0;
  let level = 1;
  let m = sorted.length;
  for (let i = 0; i < sorted.length; i++) {
    E += egress[sorted[i]];
    L += load[sorted[i]];
    const next = i + 1 < sorted.length ? load[sorted[i + 1]] / egress[sorted[i + 1]] : Infinity;
    const lvl = (L + moved) / E;
    if (lvl <= next && lvl <= 1) { level = lvl; m = i + 1; break; }
    if (next >= 1) { level = 1; m = i + 1; break; }
  }
  for (let i = 0; i < m && moved > 0; i++) {
    const n = sorted[i];
    const add = Math.min(moved, Math.max(0, level * egress[n] - load[n]));
    load[n] += add;
    tail[n] += add;
    moved -= add;
  }
  // Nowhere with room: it stays spread over everyone, in proportion to egress.
  if (moved > 0) {
    let all = 0;
    for (const n of pool) all += egress[n];
    for (const n of pool) { load[n] += (moved * egress[n]) / all; tail[n] += (moved * egress[n]) / all; }
  }
}
