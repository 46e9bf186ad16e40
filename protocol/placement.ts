// Weighted rendezvous (highest-random-weight) hashing: each chunk ranks every eligible node by
// weight / -ln(u), u a uniform draw from hash(node, chunk). Adding a node moves only the chunks
// it now wins, about weight_new / total_weight of them; removing one moves only its own.

export interface PlacementNode { id: string; weight: number }

/** cyrb53: a fast, well-mixed 53-bit string hash (not cryptographic; placement only). */
function hash53(s: string): number {
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

export function rendezvousScore(nodeId: string, key: string, weight: number): number {
  const u = (hash53(`${nodeId}\u0000${key}`) + 0.5) / 2 ** 53;
  return weight / -Math.log(u);
}

/** The `replicas` best nodes for `key`, best first. Fewer when fewer nodes are eligible. */
export function placeKey(key: string, nodes: PlacementNode[], replicas: number): string[] {
  return nodes
    .filter((n) => n.weight > 0)
    .map((n) => ({ id: n.id, s: rendezvousScore(n.id, key, n.weight) }))
    .sort((a, b) => b.s - a.s || (a.id < b.id ? -1 : 1))
    .slice(0, replicas)
    .map((x) => x.id);
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
