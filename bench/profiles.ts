// The benchmark's link profiles: four nodes, each behind its own shaped link. Rates in MB/s
// (10^6 bytes per second), latency in ms added to every request.
import type { LinkShape } from './shaper.ts';

/** What happens to one node's link once FAULT_FRACTION of the item has crossed the links. */
export interface Fault {
  node: number;
  /**
   * dies: its port closes and every connection through it is reset;
   * hangs: it goes silent without closing anything (bodies under way stop, answers that arrive
   * send their headers and no byte, new requests are accepted and never answered)
   */
  kind: 'dies' | 'hangs';
}

export interface Profile {
  name: string;
  title: string;
  links: LinkShape[];
  fault?: Fault;
}

const MB = 1e6;
const link = (mbps: number, latencyMs = 5): LinkShape => ({ rate: mbps * MB, latencyMs });
const equal = () => [link(8), link(8), link(8), link(8)];

export const PROFILES: Profile[] = [
  { name: 'equal', title: 'equal: 4 × 8 MB/s, 5 ms', links: equal() },
  { name: 'skewed', title: 'skewed: 16/8/4/2 MB/s, 5 ms', links: [link(16), link(8), link(4), link(2)] },
  { name: 'slow-node', title: 'one node 10× slower: 8/8/8/0.8 MB/s, 5 ms', links: [link(8), link(8), link(8), link(0.8)] },
  { name: 'node-dies', title: 'n4 dies at 40 %: 4 × 8 MB/s, 5 ms', links: equal(), fault: { node: 3, kind: 'dies' } },
  { name: 'node-hangs', title: 'n4 hangs silently at 40 %: 4 × 8 MB/s, 5 ms', links: equal(), fault: { node: 3, kind: 'hangs' } },
  { name: 'latencies', title: 'unequal latencies: 4 × 8 MB/s, 5/50/100/200 ms', links: [link(8, 5), link(8, 50), link(8, 100), link(8, 200)] },
];

export const sumOfCaps = (p: Profile) => p.links.reduce((n, l) => n + l.rate, 0);

/** The fault's threshold as the shaper counts it: bytes sent by all proxies in the run. */
export const FAULT_FRACTION = 0.4;
