// The engine session (what the CLI and the browser both run): history saved by node URL and
// read back by the next session, the probe skipped for nodes measured recently, the user's
// choice read for every download, bad chunks reported, and a store that fails changing nothing.
// The real engine against fake nodes on a virtual clock (fixtures.ts).
import { describe, expect, it } from 'vitest';
import { downloadContent } from '../../protocol/engine/download.ts';
import { deviceHintFrom } from '../../protocol/engine/device-hint.ts';
import type { ChunkReport, EngineEvent } from '../../protocol/engine/events.ts';
import type { NodeHistoryEntry } from '../../protocol/engine/node-stats.ts';
import { engineSession, keepRecent, type DownloadInput, type EngineSession, type HistoryStore, type NodeChoice } from '../../protocol/engine/session.ts';
import { of, signer } from './engine-harness.ts';
import { CHUNK, FakeNetwork, VirtualClock, collect, createContent, cryptoLike, nodeUrl, type ContentFixture } from './fixtures.ts';

/** History kept in memory, answering asynchronously as IndexedDB does. */
class MemoryHistory implements HistoryStore {
  readonly saved = new Map<string, NodeHistoryEntry>();
  saves = 0;
  async load() {
    return Object.fromEntries(this.saved);
  }
  async save(entries: Record<string, NodeHistoryEntry>) {
    this.saves++;
    for (const [url, e] of Object.entries(entries)) this.saved.set(url, structuredClone(e));
  }
  async clear() {
    this.saved.clear();
  }
}

const fx = await createContent({ size: CHUNK * 12, signer });

/** Nodes that answer after 5 virtual ms and trickle bodies over 20, so speed is measured. */
function network(f: ContentFixture = fx) {
  const clock = new VirtualClock();
  return { clock, net: new FakeNetwork(f, { clock, latency: () => 5, bodyMs: () => 20 }) };
}

function session(clock: VirtualClock, net: FakeNetwork, more: Partial<Parameters<typeof engineSession>[0]> = {}) {
  return engineSession({ crypto: clock.trackCrypto(cryptoLike), fetch: net.fetch, now: clock.now, ...more });
}

/** One download through the session, on the virtual clock. */
async function download(s: EngineSession, clock: VirtualClock, input: Partial<DownloadInput> = {}, f: ContentFixture = fx) {
  const events: EngineEvent[] = [];
  const run = await s.prepare({
    manifest: f.manifest, publicKey: f.signer.publicKey, sleep: clock.sleep, random: () => 0.5, onEvent: (e) => events.push(e), ...input,
  });
  const stop = clock.drive();
  try {
    const bytes = await collect(downloadContent(run.options));
    await run.finish();
    return { bytes, events, run };
  } finally {
    stop();
  }
}

const chunkNodes = (net: FakeNetwork) => new Set(net.requests.map((r) => r.node));

describe('engine session: node history', () => {
  it('saves what a download measured by node URL, and the next session starts from it without probing', async () => {
    const store = new MemoryHistory();
    const first = network();
    const a = await download(session(first.clock, first.net, { history: store }), first.clock);
    expect(a.bytes).toEqual(fx.plain);
    // Nothing was known: every node got a timed test download.
    expect(new Set(first.net.probes.map((p) => p.node))).toEqual(new Set(['n1', 'n2', 'n3']));
    const used = chunkNodes(first.net);
    for (const id of used) {
      const e = store.saved.get(nodeUrl(id))!;
      expect(e.rate).toBeGreaterThan(0);
      expect(e.rateSamples).toBeGreaterThan(0);
      expect(e.successes).toBeGreaterThan(0);
    }

    // A new session (a new process, a restarted service worker) on another network.
    const second = network();
    const s2 = session(second.clock, second.net, { history: store });
    await s2.ready();
    const before = Object.fromEntries([...used].map((id) => [id, store.saved.get(nodeUrl(id))!.successes]));
    const b = await download(s2, second.clock);
    expect(b.bytes).toEqual(fx.plain);
    expect(second.net.probes).toHaveLength(0);
    expect(of(b.events, 'node-probe')).toEqual([]);
    // The counts carry on from the first session's.
    for (const id of used) {
      const done = of(b.events, 'chunk-done').filter((e) => e.node === id).length;
      expect(store.saved.get(nodeUrl(id))!.successes).toBe(before[id] + done);
    }
  });

  it('ignores history saved under another URL for the same node id', async () => {
    const store = new MemoryHistory();
    store.saved.set('http://elsewhere.test', { rate: 1, rateSamples: 1, latency: 1, latencyDev: 0, ratios: [], successes: 5, failures: 0, consecutiveFailures: 0, backoffUntil: 0, updatedAt: 1_700_000_000_000 });
    const { clock, net } = network();
    const s = session(clock, net, { history: store });
    await download(s, clock);
    expect(net.probes).toHaveLength(3);
    expect(store.saved.has('http://elsewhere.test')).toBe(true); // other nodes' entries stay
  });

  it('saves on its own a moment after measuring, and forgets on request', async () => {
    const store = new MemoryHistory();
    const { clock, net } = network();
    const s = session(clock, net, { history: store, saveAfterMs: 5 });
    const run = await s.prepare({ manifest: fx.manifest, publicKey: fx.signer.publicKey, sleep: clock.sleep });
    const stop = clock.drive();
    try {
      expect(await collect(downloadContent(run.options))).toEqual(fx.plain);
    } finally {
      stop();
    }
    // No finish(), no flush(): the timer saves.
    await new Promise((r) => setTimeout(r, 50));
    expect(store.saves).toBeGreaterThan(0);
    expect(store.saved.size).toBeGreaterThan(0);

    await s.forget();
    expect(store.saved.size).toBe(0);
    for (const st of s.stats.values()) expect(st).toMatchObject({ rate: 0, latency: 0, updatedAt: 0, successes: 0 });
    await s.flush();
    expect(store.saved.size).toBe(0); // nothing measured since
  });

  it('keeps a download with a table of its own out of the history (a saved copy measures the device, not the nodes)', async () => {
    const store = new MemoryHistory();
    const { clock, net } = network();
    const s = session(clock, net, { history: store, saveAfterMs: 1 });
    const own = new Map();
    const { bytes } = await download(s, clock, { stats: own, probe: false });
    expect(bytes).toEqual(fx.plain);
    expect(own.size).toBeGreaterThan(0);
    expect(s.stats.size).toBe(0);
    await new Promise((r) => setTimeout(r, 20));
    expect(store.saved.size).toBe(0);
  });

  it('downloads the same bytes when the store cannot load or save', async () => {
    const broken: HistoryStore = {
      load: () => Promise.reject(new Error('storage blocked')),
      save: () => { throw new Error('quota exceeded'); },
    };
    const { clock, net } = network();
    const a = await download(session(clock, net, { history: broken }), clock);
    expect(a.bytes).toEqual(fx.plain);
  });

  it('keeps recent entries only, newest first, within the cap', () => {
    const e = (updatedAt: number) => ({ updatedAt } as NodeHistoryEntry);
    const now = 1_800_000_000_000;
    const kept = keepRecent({ a: e(now - 1), b: e(now - 8 * 24 * 3600_000), c: e(now), d: e(now - 2) }, now, undefined, 2);
    expect(Object.keys(kept)).toEqual(['c', 'a']);
  });
});

describe('engine session: the user\'s choice', () => {
  it('reads the choice for every download: an excluded node is never asked', async () => {
    let choice: NodeChoice = { prefer: [], exclude: ['n1'] };
    const { clock, net } = network();
    const s = session(clock, net, { choice: () => Promise.resolve(choice) });
    const a = await download(s, clock);
    expect(a.bytes).toEqual(fx.plain);
    expect(chunkNodes(net).has('n1')).toBe(false);
    expect(net.probes.map((p) => p.node)).not.toContain('n1');

    choice = { prefer: [], exclude: ['n2'] };
    const asked = net.requests.length;
    await download(s, clock);
    expect(new Set(net.requests.slice(asked).map((r) => r.node)).has('n2')).toBe(false);
  });

  it('merges the download\'s own lists with the setting; excluded wins over preferred', async () => {
    const everywhere = await createContent({ size: CHUNK * 4, signer, replicas: 3 });
    const { clock, net } = network(everywhere);
    const s = session(clock, net, { choice: () => ({ prefer: ['n3'], exclude: ['n2'] }) });
    const { run, bytes } = await download(s, clock, { prefer: ['n2'], exclude: ['n1'] }, everywhere);
    expect(bytes).toEqual(everywhere.plain);
    expect(new Set(run.options.exclude)).toEqual(new Set(['n1', 'n2']));
    expect(run.options.prefer).toEqual(['n3']);
    expect([...chunkNodes(net)]).toEqual(['n3']);
  });

  it('downloads with no choice when reading the setting fails', async () => {
    const { clock, net } = network();
    const s = session(clock, net, { choice: () => Promise.reject(new Error('no database')) });
    expect((await download(s, clock)).bytes).toEqual(fx.plain);
  });
});

describe('engine session: reports', () => {
  it('reports a corrupt chunk with the content id, gets it from another replica, and finish() waits for the report', async () => {
    const { clock, net } = network();
    const bad = fx.manifest.chunks[0].nodes[0];
    net.set(bad, 'corrupt');
    const sent: Array<[string, ChunkReport]> = [];
    let delivered = 0;
    const s = session(clock, net, {
      report: async (id, r) => {
        sent.push([id, r]);
        await new Promise((res) => setTimeout(res, 20));
        delivered++;
      },
    });
    const { bytes, events } = await download(s, clock, { perNode: 8 });
    expect(bytes).toEqual(fx.plain);
    expect(sent.length).toBeGreaterThan(0);
    for (const [id, r] of sent) {
      expect(id).toBe(fx.manifest.id);
      expect(r).toMatchObject({ node: bad, code: 'integrity_failed', hash: fx.manifest.chunks[r.index].hash });
    }
    expect(delivered).toBe(sent.length);
    expect(of(events, 'chunk-report').length).toBe(sent.length);
  });

  it('does not wait past the grace for a report that hangs', async () => {
    const { clock, net } = network();
    net.set(fx.manifest.chunks[0].nodes[0], 'corrupt');
    const s = session(clock, net, { report: () => new Promise(() => {}), reportGraceMs: 30 });
    const t0 = Date.now();
    await download(s, clock, { perNode: 8 });
    expect(Date.now() - t0).toBeLessThan(5000);
  });
});

describe('device hint from navigator', () => {
  it('takes the memory, stands in the cores where it is hidden, and saves data on request or on 2G', () => {
    expect(deviceHintFrom(undefined)).toEqual({});
    expect(deviceHintFrom({ deviceMemory: 0.5, hardwareConcurrency: 8 })).toEqual({ memoryGiB: 0.5 });
    expect(deviceHintFrom({ deviceMemory: 8, hardwareConcurrency: 2 })).toEqual({ memoryGiB: 8 });
    expect(deviceHintFrom({ hardwareConcurrency: 2 })).toEqual({ memoryGiB: 2 });
    expect(deviceHintFrom({ hardwareConcurrency: 8 })).toEqual({});
    expect(deviceHintFrom({ connection: { saveData: true } })).toEqual({ saveData: true });
    expect(deviceHintFrom({ connection: { effectiveType: '2g' } })).toEqual({ saveData: true });
    expect(deviceHintFrom({ connection: { effectiveType: '4g', saveData: false } })).toEqual({});
  });
});
