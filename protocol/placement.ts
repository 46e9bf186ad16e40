// Weighted rendezvous (highest-random-weight) hashing: each chunk ranks every eligible node by
// weight / -ln(u), u a uniform draw from hash(node, chunk). Adding a node moves only the chunks
// it now wins, about weight_new / total_weight of them; removing one moves only its own.

export interface PlacementNode {
  id: string;
  weight: number;
  /** hash53(id), when the caller ranks many keys over the same nodes (computed and cached otherwise) */
  seed?: number;
}

/** cyrb53: a fast, well-mixed 53-bit string hash (not cryptographic; placement only). */
export function hash53(s: string): number {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

const seeds = new Map<string, number>();
/** A node's 53-bit seed, cached: a manager ranks every chunk of a content over the same few ids. */
export function nodeSeed(id: string): number {
  let s = seeds.get(id);
  if (s === undefined) {
    if (seeds.size > 100_000) seeds.clear();
    s = hash53(id);
    seeds.set(id, s);
  }
  return s;
}

/**
 * A chunk's 52 bits: its address is a SHA-256, already uniform, so its first 13 hex digits are
 * used as they are; any other key is hashed. Ranking a key over N nodes then costs N integer
 * mixes, not N string hashes (the simulation ranks a million chunks over a thousand nodes).
 */
export function keyBits(key: string): number {
  return /^[0-9a-f]{13}/.test(key) ? parseInt(key.slice(0, 13), 16) : hash53(key);
}

/** Two 53-bit values mixed into one uniform 53-bit value (two rounds of a 32-bit avalanche). */
function mix53(a: number, b: number): number {
  let lo = (a >>> 0) ^ Math.imul(b >>> 0, 0x9e3779b1);
  let hi = ((a / 4294967296) >>> 0) ^ Math.imul((b / 4294967296) >>> 0, 0x85ebca77) ^ Math.imul(b >>> 0, 0xc2b2ae3d);
  for (let r = 0; r < 2; r++) {
    lo = Math.imul(lo ^ (hi >>> 16), 0x85ebca6b);
    hi = Math.imul(hi ^ (lo >>> 13), 0xc2b2ae35);
    lo ^= lo >>> 16;
    hi ^= hi >>> 15;
    lo = Math.imul(lo ^ (hi >>> 7), 0x27d4eb2f);
    hi = Math.imul(hi ^ (lo >>> 11), 0x165667b1);
  }
  return 4294967296 * (2097151 & (hi ^ (hi >>> 16))) + ((lo ^ (lo >>> 15)) >>> 0);
}

export function rendezvousScore(node: PlacementNode, bits: number): number {
  const u = (mix53(node.seed ?? nodeSeed(node.id), bits) + 0.5) / 2 ** 53;
  return node.weight / -Math.log(u);
}

/** Every node of positive weight, best first for `key`. Ties (practically never) break by id. */
export function rankNodes<N extends PlacementNode>(key: string, nodes: N[]): N[] {
  const bits = keyBits(key);
  return nodes
    .filter((n) => n.weight > 0)
    .map((n) => ({ n, s: rendezvousScore(n, bits) }))
    .sort((a, b) => b.s - a.s || (a.n.id < b.n.id ? -1 : 1))
    .map((x) => x.n);
}

/** The `replicas` best nodes for `key`, best first. Fewer when fewer nodes are eligible. */
export function placeKey(key: string, nodes: PlacementNode[], replicas: number): string[] {
  return rankNodes(key, nodes).slice(0, replicas).map((n) => n.id);
}

/**
 * Randomised placement (source document [0047]: destinations chosen "at random"): `replicas`
 * distinct nodes drawn uniformly by a CSPRNG among those with positive weight. `keep` are nodes
 * the chunk already has; they stay, and only the shortfall is drawn. `random(n)` returns a
 * uniform integer in [0, n).
 */
export function placeRandom(nodes: PlacementNode[], replicas: number, random: (n: number) => number, keep: string[] = []): string[] {
  const eligible = nodes.filter((n) => n.weight > 0).map((n) => n.id);
  const chosen = keep.filter((id) => eligible.includes(id)).slice(0, replicas);
  const pool = eligible.filter((id) => !chosen.includes(id));
  while (chosen.length < replicas && pool.length > 0) chosen.push(pool.splice(random(pool.length), 1)[0]);
  return chosen;
}

/** A uniform integer in [0, n) from 32-bit CSPRNG draws, by rejection (no modulo bias). */
export function uniformInt(getRandomValues: (a: Uint32Array) => Uint32Array, n: number): number {
  if (!Number.isInteger(n) || n < 1 || n > 2 ** 32) throw new RangeError('n must be an integer in 1..2^32');
  const limit = 2 ** 32 - (2 ** 32 % n);
  const buf = new Uint32Array(1);
  for (;;) {
    const x = getRandomValues(buf)[0];
    if (x < limit) return x % n;
  }
}
