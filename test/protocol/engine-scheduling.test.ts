// Where each chunk goes and when, in virtual time: in order from the read position, to the
// replica expected to deliver it first given its queue, as many at once as each link needs;
// ranked by probes, history, the manifest's hints, the user's preference and a random tie-break.
import { describe, expect, it } from 'vitest';
import {
  ADMIT_MIN_BYTES, ADMIT_SLACK_MS, adaptiveWindow, admitBytes, deviceBudget, exportHistory, importHistory, newNodeStats, nodeLimit, statsFor, type NodeStats,
  type NodeStatsTable,
} from '../../protocol/engine/index.ts';
import { PUBLIC_PROBE_BYTES } from '../../protocol/node-protocol.ts';
import { engine, of, setup } from './engine-harness.ts';
import { CHUNK, collect } from './fixtures.ts';

const SEALED = CHUNK + 28;

/** A node history as an earlier session would have left it. */
function history(entries: Record<string, Partial<NodeStats>>, now = 1_700_000_000_000): NodeStatsTable {
  const table: NodeStatsTable = new Map();
  for (const [id, patch] of Object.entries(entries)) Object.assign(statsFor(table, id), { rateSamples: 1, updatedAt: now, ...patch });
  return table;
}

/** Index of each chunk's first request, in the order requests went out. */
const firstRequests = (events: ReturnType<typeof engine>['events']) => {
  const seen = new Set<number>();
  return of(events, 'chunk-request').filter((e) => !seen.has(e.index) && seen.add(e.index)).map((e) => e.index);
};

describe('scheduling', () => {
  it('asks for chunks in order from the read position', async () => {
    const { fx, net } = await setup(CHUNK * 30, { latency: () => 10, bodyMs: () => 30 }, { nodes: ['n1'], replicas: 1 });
    const start = CHUNK * 7 + 5;
    const { gen, events } = engine(fx, net, { range: { start, end: fx.plain.length - 1 } });
    expect(await collect(gen)).toEqual(fx.plain.subarray(start));
    expect(firstRequests(events)).toEqual(Array.from({ length: 23 }, (_, i) => 7 + i));
  });

  it('considers chunks in order over several replicas: nothing before the read position, nothing beyond the window', async () => {
    const { fx, net } = await setup(CHUNK * 40, { latency: () => 10, bodyMs: (r) => 20 + (r.index % 3) * 20 });
    const { gen, events } = engine(fx, net, { range: { start: CHUNK * 7, end: fx.plain.length - 1 }, window: 6 });
    expect(await collect(gen)).toEqual(fx.plain.subarray(CHUNK * 7));
    const order = firstRequests(events);
    expect(order[0]).toBe(7);
    expect([...order].sort((a, b) => a - b)).toEqual(Array.from({ length: 33 }, (_, i) => 7 + i));
    for (const e of of(events, 'chunk-request')) {
      const delivered = of(events.slice(0, events.indexOf(e)), 'chunk-delivered').length;
      expect(e.index).toBeLessThan(7 + delivered + 6);
    }
  });

  it('waits for a fast busy node rather than give a chunk to a slow idle one', async () => {
    // n1 delivers 5000 bytes/ms, n2 50: a chunk queued behind n1's others still arrives sooner
    const stats = history({ n1: { rate: 5000, latency: 5 }, n2: { rate: 50, latency: 5 } });
    const { fx, net } = await setup(CHUNK * 16, { latency: () => 5, bodyMs: (r) => (r.node === 'n1' ? 13 : 1300) }, { nodes: ['n1', 'n2'] });
    const { gen, events } = engine(fx, net, { stats });
    expect(await collect(gen)).toEqual(fx.plain);
    expect(net.requests.filter((r) => r.node === 'n2')).toEqual([]);
    expect(of(events, 'chunk-hedge')).toEqual([]);
  });

  it('sends a chunk to the slower replica once the fast one is queued past it', async () => {
    // n2 is a quarter of n1's speed: later chunks of the window go to it
    const stats = history({ n1: { rate: 2000, latency: 5 }, n2: { rate: 500, latency: 5 } });
    const { fx, net } = await setup(CHUNK * 40, { latency: () => 5, bodyMs: (r) => (r.node === 'n1' ? 33 : 131) }, { nodes: ['n1', 'n2'] });
    const { gen, events } = engine(fx, net, { stats, window: 16 });
    expect(await collect(gen)).toEqual(fx.plain);
    const per = (n: string) => net.requests.filter((r) => r.node === n).length;
    expect(per('n1')).toBeGreaterThan(per('n2'));
    expect(per('n2')).toBeGreaterThan(0);
    // n2 only ever got chunks further from the read position than n1's queue reaches
    for (const e of of(events, 'chunk-request').filter((r) => r.node === 'n2')) {
      const delivered = of(events.slice(0, events.indexOf(e)), 'chunk-delivered').length;
      expect(e.index - delivered).toBeGreaterThan(2);
    }
  });

  it('keeps more requests in flight to a far node than to a near one', async () => {
    const stats = history({ n1: { rate: 2000, latency: 5 }, n2: { rate: 2000, latency: 150 } });
    const { fx, net } = await setup(CHUNK * 60, { latency: (r) => (r.node === 'n1' ? 5 : 150), bodyMs: () => 33 }, { nodes: ['n1', 'n2'] });
    const { gen } = engine(fx, net, { stats });
    expect(await collect(gen)).toEqual(fx.plain);
    expect(net.maxPerNode.get('n2')!).toBeGreaterThan(net.maxPerNode.get('n1')!);
    expect(net.requests.filter((r) => r.node === 'n2').length).toBeGreaterThan(5);
  });

  it('sizes per-node requests and the window from the measured links and the device', () => {
    const s = (rate: number, latency: number) => ({ ...newNodeStats('x'), rate, latency, rateSamples: 1 });
    const MiB = 1 << 20;
    expect(nodeLimit(newNodeStats('x'), 6)).toBe(1); // response time unknown: slow start
    expect(nodeLimit(s(8000, 5), 6)).toBe(6);
    // the next request goes once what is owed drains within one response time (and some slack)
    const slack = 8000 * ADMIT_SLACK_MS;
    expect(admitBytes(s(8000, 5))).toBe(40_000 + slack);
    expect(admitBytes(s(8000, 200))).toBe(1_600_000 + slack);
    expect(admitBytes({ ...s(8000, 20), latencyDev: 5 })).toBe(240_000 + slack); // a jittery one needs more in flight
    expect(admitBytes(s(100, 5))).toBe(ADMIT_MIN_BYTES); // a slow link: a few round trips' worth
    expect(admitBytes({ ...s(0, 5), rateSamples: 0 }, { rate: 4000, latency: 5 })).toBe((5 + 50) * 4000); // unmeasured: the measured ones' rate
    const phone = deviceBudget({ memoryGiB: 1 });
    const laptop = deviceBudget({ memoryGiB: 16 });
    expect(phone.concurrencyMax).toBeLessThan(laptop.concurrencyMax);
    expect(adaptiveWindow(4, 32_000, MiB, phone)).toBe(8); // 8 MiB of memory budget
    expect(adaptiveWindow(4, 32_000, MiB, laptop)).toBe(62); // about two seconds at 32 MB/s
    expect(adaptiveWindow(4, 32_000, MiB, deviceBudget())).toBe(32); // the default budget: 32 MiB
    expect(adaptiveWindow(4, 1000, MiB, deviceBudget())).toBe(16);
    expect(adaptiveWindow(8, 1000, 64 * 1024, deviceBudget())).toBe(32);
  });

  it('holds a weak device to fewer requests', async () => {
    const run = async (memoryGiB: number) => {
      const { fx, net } = await setup(CHUNK * 40, { latency: () => 10, bodyMs: () => 30 }, { nodes: ['n1', 'n2', 'n3', 'n4', 'n5', 'n6'], replicas: 3 });
      expect(await collect(engine(fx, net, { device: { memoryGiB } }).gen)).toEqual(fx.plain);
      return net.maxInFlight;
    };
    expect(await run(1)).toBeLessThanOrEqual(6);
    expect(await run(16)).toBeGreaterThan(6);
  });
});

describe('ranking signals', () => {
  it('probes nodes without recent history and ranks by what they answered', async () => {
    // n2 answers probes (and chunks) five times slower
    const { fx, net } = await setup(CHUNK * 8, { latency: (r) => (r.node === 'n2' ? 50 : 10), bodyMs: (r) => (r.node === 'n2' ? 250 : 50) }, { nodes: ['n1', 'n2'] });
    const stats: NodeStatsTable = new Map();
    const { gen, events } = engine(fx, net, { stats, probe: { bytes: SEALED, waitMs: 400 } });
    expect(await collect(gen)).toEqual(fx.plain);
    expect(net.probes.map((p) => p.node).sort()).toEqual(['n1', 'n2']);
    const probes = of(events, 'node-probe');
    expect(probes.find((p) => p.node === 'n1')).toMatchObject({ ok: true, latency: 10, bytes: SEALED });
    expect(probes.find((p) => p.node === 'n2')).toMatchObject({ ok: true, latency: 50 });
    expect(stats.get('n1')!.rate).toBeGreaterThan(stats.get('n2')!.rate);
    // the first chunk went to the node the probes found faster
    expect(of(events, 'chunk-request')[0].node).toBe('n1');
    // a probe of a whole chunk is larger than nodes give without a credential: it carries the token
    expect(SEALED).toBeGreaterThan(PUBLIC_PROBE_BYTES);
    expect(net.probes.map((p) => p.query)).toEqual([fx.manifest.tokens.get, fx.manifest.tokens.get]);
    // fresh history: a second download probes nobody
    const again = engine(fx, net, { stats, probe: true });
    expect(await collect(again.gen)).toEqual(fx.plain);
    expect(net.probes).toHaveLength(2);
  });

  it('asks small probes without any credential, so a browser sends them as simple requests', async () => {
    const { fx, net } = await setup(CHUNK * 2, { latency: () => 10 }, { nodes: ['n1', 'n2'] });
    const { gen } = engine(fx, net, { probe: { waitMs: 100 } });
    expect(await collect(gen)).toEqual(fx.plain);
    expect(net.probes.map((p) => p.query)).toEqual([null, null]);
  });

  it('backs off a node whose probe fails, before any chunk is sent to it', async () => {
    const { fx, net } = await setup(CHUNK * 4, { latency: () => 10 }, { nodes: ['n1', 'n2'] });
    net.set('n2', 'network');
    const { gen, events } = engine(fx, net, { probe: { waitMs: 100 } });
    expect(await collect(gen)).toEqual(fx.plain);
    expect(of(events, 'node-probe').find((p) => p.node === 'n2')).toMatchObject({ ok: false });
    expect(net.requests.some((r) => r.node === 'n2')).toBe(false);
  });

  it("follows the user's preference and exclusion", async () => {
    const { fx, net } = await setup(CHUNK * 12, { latency: () => 10, bodyMs: () => 30 }, { nodes: ['n1', 'n2', 'n3'], replicas: 3 });
    for (const prefer of ['n1', 'n2']) {
      const before = net.requests.length;
      // one chunk at a time: every choice is between idle nodes of equal speed
      expect(await collect(engine(fx, net, { prefer: [prefer], exclude: ['n3'], window: 1 }).gen)).toEqual(fx.plain);
      expect(new Set(net.requests.slice(before).map((r) => r.node))).toEqual(new Set([prefer]));
    }
  });

  it('gives up a preferred node that is measured more than twice as slow', async () => {
    const stats = history({ n1: { rate: 5000, latency: 5 }, n2: { rate: 500, latency: 5 } });
    const { fx, net } = await setup(CHUNK * 12, { latency: () => 5, bodyMs: (r) => (r.node === 'n1' ? 13 : 130) }, { nodes: ['n1', 'n2'] });
    const { gen } = engine(fx, net, { prefer: ['n2'], stats });
    expect(await collect(gen)).toEqual(fx.plain);
    expect(net.requests.filter((r) => r.node === 'n1').length).toBeGreaterThan(net.requests.length / 2);
  });

  it('uses the history it is given, and the history can be saved and loaded', async () => {
    const saved = exportHistory(history({ n1: { rate: 100, latency: 5 }, n2: { rate: 5000, latency: 5 } }));
    expect(JSON.parse(JSON.stringify(saved))).toEqual(saved);
    const stats: NodeStatsTable = new Map();
    importHistory(stats, saved, 1_700_000_000_000 + 1000);
    const { fx, net } = await setup(CHUNK * 6, { latency: () => 5, bodyMs: (r) => (r.node === 'n1' ? 600 : 13) }, { nodes: ['n1', 'n2'] });
    const { gen } = engine(fx, net, { stats });
    expect(await collect(gen)).toEqual(fx.plain);
    expect(net.requests.every((r) => r.node === 'n2')).toBe(true);
    expect(stats.get('n2')!.successes).toBeGreaterThan(0);
    // stale, malformed or hostile entries are ignored
    const fresh: NodeStatsTable = new Map();
    importHistory(fresh, { n1: { ...saved.n1, updatedAt: 1 }, n2: { rate: 'fast' }, n3: null, ['x'.repeat(100)]: saved.n2 }, 1_700_000_000_000);
    expect(fresh.size).toBe(0);
    importHistory(fresh, 'garbage', 0);
    expect(fresh.size).toBe(0);
  });

  it('breaks ties between equal fresh nodes at random', async () => {
    const { fx, net } = await setup(CHUNK, { latency: () => 10 }, { nodes: ['n1', 'n2', 'n3'], replicas: 3 });
    const picks: string[] = [];
    for (const k of [0, 1, 2]) {
      let i = 0;
      const random = () => (i++ % 3 === k ? 0 : 1); // the k-th candidate draws low
      const before = net.requests.length;
      expect(await collect(engine(fx, net, { random }).gen)).toEqual(fx.plain);
      picks.push(net.requests[before].node);
    }
    expect(picks).toEqual(fx.manifest.chunks[0].nodes);
  });
});
