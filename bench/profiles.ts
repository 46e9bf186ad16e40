// The benchmark's link profiles: four nodes, each behind its own shaped link. Rates in MB/s
// (10^6 bytes per second), latency in ms added to every request.
import type { LinkShape } from './shaper.ts';

export interface Profile {
  name: string;
  title: string;
  links: LinkShape[];
  /** this node's proxy dies (connections reset, port closed) once 40 % of the item has been sent */
  dies?: number;
}

const MB = 1e6;
const link = (mbps: number, latencyMs = 5): LinkShape => ({ rate: mbps * MB, latencyMs });

export const PROFILES: Profile[] = [
  { name: 'equal', title: 'equal: 4 × 8 MB/s, 5 ms', links: [link(8), link(8), link(8), link(8)] },
  { name: 'skewed', title: 'skewed: 16/8/4/2 MB/s, 5 ms', links: [link(16), link(8), link(4), link(2)] },
  { name: 'slow-node', title: 'one node 10× slower: 8/8/8/0.8 MB/s, 5 ms', links: [link(8), link(8), link(8), link(0.8)] },
  { name: 'node-dies', title: 'n4 dies at 40 %: 4 × 8 MB/s, 5 ms', links: [link(8), link(8), link(8), link(8)], dies: 3 },
  { name: 'latencies', title: 'unequal latencies: 4 × 8 MB/s, 5/50/100/200 ms', links: [link(8, 5), link(8, 50), link(8, 100), link(8, 200)] },
];

export const sumOfCaps = (p: Profile) => p.links.reduce((n, l) => n + l.rate, 0);

/** The kill threshold as the shaper counts it: bytes sent by all proxies in the run. */
export const DEATH_FRACTION = 0.4;
