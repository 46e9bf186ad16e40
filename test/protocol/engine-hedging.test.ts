// Late chunks, stalls and bad data, in virtual time: a late chunk is asked of another replica and
// the first verified copy wins while the other request is aborted; a healthy node is never
// hedged; a silent node is abandoned after the stall timeout; a corrupted chunk is fetched
// elsewhere and reported.
import { describe, expect, it } from 'vitest';
import type { ChunkReport } from '../../protocol/engine/index.ts';
import { engine, firstPick, of, otherReplica, setup } from './engine-harness.ts';
import { CHUNK, collect } from './fixtures.ts';

const healthy = { latency: () => 10, bodyMs: () => 50 };

describe('hedging', () => {
  it('never fires on healthy nodes', async () => {
    const { fx, net } = await setup(CHUNK * 24, healthy);
    const { gen, events } = engine(fx, net);
    expect(await collect(gen)).toEqual(fx.plain);
    expect(of(events, 'chunk-hedge')).toEqual([]);
    expect(of(events, 'chunk-abandoned')).toEqual([]);
    expect(net.requests).toHaveLength(24);
    expect(of(events, 'done')[0]).toMatchObject({ hedges: 0, hedgedBytes: 0, failures: 0 });
  });

  it('fires on a straggler: the late chunk comes from another replica, the straggler is aborted', async () => {
    let slowNode = '';
    const { fx, net } = await setup(CHUNK * 12, { latency: () => 10, bodyMs: (r) => (r.node === slowNode ? 4000 : 50) });
    slowNode = firstPick(fx);
    const { gen, events, clock, t0 } = engine(fx, net);
    expect(await collect(gen)).toEqual(fx.plain);

    const hedges = of(events, 'chunk-hedge');
    expect(hedges.length).toBeGreaterThan(0);
    for (const h of hedges) {
      expect(h.from).toBe(slowNode);
      expect(h.node).toBe(otherReplica(fx, h.index, slowNode));
      // late beyond its prediction, or behind: its pace said another replica would be far quicker
      if (h.reason === 'late') expect(h.elapsed).toBeGreaterThanOrEqual(h.expected);
      const done = of(events, 'chunk-done').find((d) => d.index === h.index)!;
      expect(done).toMatchObject({ node: h.node, hedge: true });
    }
    // no chunk waited for the straggler's 4 s
    expect(clock.now() - t0).toBeLessThan(1500);
    expect(of(events, 'chunk-done').some((d) => d.node === slowNode)).toBe(false);
    // every losing request was aborted, and what it had received is counted as hedged bytes
    const lost = of(events, 'chunk-abandoned');
    expect(lost.map((l) => l.index).sort()).toEqual(hedges.map((h) => h.index).sort());
    for (const l of lost) {
      expect(l.node).toBe(slowNode);
      const req = net.requests.find((r) => r.index === l.index && r.node === slowNode)!;
      expect(req.state).toBe('aborted');
      expect(req.sent).toBeLessThan(fx.manifest.chunks[l.index].sealedLength);
    }
    const done = of(events, 'done')[0];
    expect(done.hedges).toBe(hedges.length);
    expect(done.hedgedBytes).toBe(lost.reduce((n, l) => n + l.bytes, 0));
    expect(done.hedgedBytes).toBeGreaterThan(0);
    // once its pace gave it away, no chunk went to the straggler again
    const found = events.indexOf(hedges[0]);
    expect(of(events.slice(found), 'chunk-request').filter((r) => r.node === slowNode)).toEqual([]);
  });

  it('keeps the first verified copy when the original wins after all, and aborts the hedge', async () => {
    // the first pick answers late but then all at once; the hedge on the other trickles
    let first = '';
    const { fx, net, clock } = await setup(CHUNK, {
      latency: (r) => (r.node === first ? 400 : 10),
      bodyMs: (r) => (r.node === first ? 0 : 1000),
    }, { nodes: ['n1', 'n2'], replicas: 2 });
    first = firstPick(fx);
    const other = otherReplica(fx, 0, first);
    const { gen, events, t0 } = engine(fx, net);
    expect(await collect(gen)).toEqual(fx.plain);
    const [hedge] = of(events, 'chunk-hedge');
    expect(hedge).toMatchObject({ index: 0, from: first, node: other });
    expect(of(events, 'chunk-done')).toEqual([expect.objectContaining({ index: 0, node: first })]);
    expect(of(events, 'chunk-done')[0].hedge).toBeUndefined();
    const [lost] = of(events, 'chunk-abandoned');
    expect(lost.node).toBe(other);
    expect(lost.bytes).toBeGreaterThan(0);
    expect(net.requests.find((r) => r.node === other)!.state).toBe('aborted');
    expect(of(events, 'done')[0].hedgedBytes).toBe(lost.bytes);
    expect(clock.now() - t0).toBeLessThan(450);
  });

  it('is off with hedging: false, and only for the chunk being read on a device that saves data', async () => {
    const slowN1 = { latency: () => 10, bodyMs: (r: { node: string }) => (r.node === 'n1' ? 2000 : 50) };
    {
      const { fx, net } = await setup(CHUNK * 8, slowN1);
      const { gen, events } = engine(fx, net, { hedging: false });
      expect(await collect(gen)).toEqual(fx.plain);
      expect(of(events, 'chunk-hedge')).toEqual([]);
    }
    const { fx, net } = await setup(CHUNK * 8, slowN1);
    const { gen, events } = engine(fx, net, { device: { saveData: true } });
    expect(await collect(gen)).toEqual(fx.plain);
    const hedges = of(events, 'chunk-hedge');
    // every chunk sent to n1 became the one being read while n1 still trickled it
    expect(hedges.length).toBe(new Set(net.requests.filter((r) => r.node === 'n1').map((r) => r.index)).size);
    expect(hedges.length).toBeGreaterThan(0);
    for (const h of hedges) {
      const delivered = of(events.slice(0, events.indexOf(h)), 'chunk-delivered').length;
      expect(h.index).toBe(delivered);
    }
  });
});

describe('hedging within bounds', () => {
  it('stops when hedges have cost their share of the bytes', async () => {
    // every other request, on every node, is a straggler that would have sent half its chunk by
    // the time it is hedged: each hedge wastes that much
    const { fx, net } = await setup(CHUNK * 40, { latency: () => 10, bodyMs: (r) => (r.seq % 2 ? 800 : 40) });
    const { gen, events } = engine(fx, net);
    expect(await collect(gen)).toEqual(fx.plain);
    const done = of(events, 'done')[0];
    expect(done.hedges).toBeGreaterThan(0);
    // the budget (5 %, 10 % for the chunk being read, plus four chunks) is checked when a hedge
    // starts, so the hedges already running when it runs out still land: a few chunks more
    const sealed = fx.manifest.chunks[0].sealedLength;
    expect(done.hedgedBytes).toBeLessThanOrEqual(0.1 * done.fetchedBytes + 12 * sealed);
    // of the 20 stragglers, only some were hedged before the budget ran out
    expect(done.hedges).toBeLessThan(of(events, 'chunk-request').filter((r) => !r.hedge && r.index >= 0).length / 2);
  });

  it('does not hedge while the client itself runs late (its timers fire late)', async () => {
    let slowNode = '';
    const { fx, net, clock } = await setup(CHUNK * 8, { latency: () => 10, bodyMs: (r) => (r.node === slowNode ? 2000 : 50) });
    slowNode = firstPick(fx);
    // every wake-up comes 100 ms after it was asked for, as on a starved CPU
    let firstLate = Infinity;
    const sleep = async (ms: number, signal?: AbortSignal) => {
      await clock.sleep(ms + 100, signal);
      firstLate = Math.min(firstLate, clock.now());
    };
    const { gen, events, times } = engine(fx, net, { sleep });
    expect(await collect(gen)).toEqual(fx.plain);
    expect(firstLate).toBeLessThan(Infinity);
    // from the first late wake-up on, no hedge: the lateness is the client's own
    for (const h of of(events, 'chunk-hedge')) expect(times[events.indexOf(h)]).toBeLessThan(firstLate);
  });
});

describe('stalls', () => {
  it('abandons every request of a node gone silent as a whole long before stallMs, backs it off and refetches at once', async () => {
    let silent = '';
    const { fx, net } = await setup(CHUNK * 3, { latency: (r) => (r.node === silent ? Infinity : 10) });
    silent = firstPick(fx);
    const { gen, events, times, t0 } = engine(fx, net, { hedging: false, retry: { stallMs: 5000 } });
    expect(await collect(gen)).toEqual(fx.plain);
    const failed = of(events, 'chunk-failed');
    expect(failed.length).toBeGreaterThan(0);
    for (const f of failed) {
      expect(f).toMatchObject({ node: silent, code: 'node_unreachable' });
      expect(f.message).toMatch(/^node silent: nothing from n\d+ for \d+ ms/);
      // twice the hedge floor and past the request's deadline, not the 5 s stall timeout
      expect(times[events.indexOf(f)] - t0).toBeGreaterThanOrEqual(500);
      expect(times[events.indexOf(f)] - t0).toBeLessThan(1000);
      expect(of(events, 'chunk-done').find((d) => d.index === f.index)!.node).toBe(otherReplica(fx, f.index, silent));
    }
    expect(of(events, 'node-backoff')[0]).toMatchObject({ node: silent, failures: 1 });
    for (const r of net.requests.filter((q) => q.node === silent)) expect(r.state).toBe('aborted');
  });

  it('leaves a slow node alone while its bytes keep coming', async () => {
    const { fx, net } = await setup(CHUNK * 8, { latency: () => 10, bodyMs: (r) => (r.node === 'n1' ? 3000 : 40) }, { nodes: ['n1', 'n2'] });
    const { gen, events } = engine(fx, net, { hedging: false });
    expect(await collect(gen)).toEqual(fx.plain);
    expect(of(events, 'chunk-failed')).toEqual([]);
  });

  it('a stalled body (bytes stop coming) counts as a stall too', async () => {
    const { fx, net } = await setup(CHUNK * 2, { latency: () => 10, bodyMs: (r) => (r.node === 'n1' ? Infinity : 20) }, { nodes: ['n1', 'n2'] });
    const { gen, events } = engine(fx, net, { hedging: false, retry: { stallMs: 800 } });
    expect(await collect(gen)).toEqual(fx.plain);
    const failed = of(events, 'chunk-failed').filter((f) => f.node === 'n1');
    expect(failed.length).toBeGreaterThan(0);
    expect(failed[0].message).toMatch(/^(stalled|node silent)/);
  });
});

describe('corrupted chunks', () => {
  it('are fetched from another replica and reported', async () => {
    const { fx, net } = await setup(CHUNK * 6, healthy);
    const bad = firstPick(fx);
    net.set(bad, 'corrupt');
    const reports: ChunkReport[] = [];
    const { gen, events } = engine(fx, net, { onReport: (r) => void reports.push(r) });
    expect(await collect(gen)).toEqual(fx.plain);
    expect(reports.length).toBeGreaterThan(0);
    for (const r of reports) {
      expect(r).toEqual({ index: r.index, hash: fx.manifest.chunks[r.index].hash, node: bad, code: 'integrity_failed' });
      expect(of(events, 'chunk-done').find((d) => d.index === r.index)!.node).toBe(otherReplica(fx, r.index, bad));
    }
    expect(of(events, 'chunk-report').map(({ type: _t, ...r }) => r)).toEqual(reports);
    expect(of(events, 'done')[0].reports).toBe(reports.length);
  });

  it('reports a wrong stamp too, and a failing reporter breaks nothing', async () => {
    const { fx, net } = await setup(CHUNK * 4, healthy);
    const bad = firstPick(fx);
    net.set(bad, 'wrong-stamp');
    let calls = 0;
    for (const onReport of [() => { calls++; throw new Error('portal down'); }, () => { calls++; return Promise.reject(new Error('portal down')); }]) {
      const { gen, events } = engine(fx, net, { onReport });
      expect(await collect(gen)).toEqual(fx.plain);
      expect(of(events, 'chunk-report')[0]).toMatchObject({ node: bad, code: 'stamp_mismatch' });
    }
    expect(calls).toBeGreaterThan(1);
  });

  it('are not reported when the node merely fails', async () => {
    const { fx, net } = await setup(CHUNK * 4, healthy);
    net.set(firstPick(fx), { status: 500 });
    const reports: ChunkReport[] = [];
    const { gen } = engine(fx, net, { onReport: (r) => void reports.push(r) });
    expect(await collect(gen)).toEqual(fx.plain);
    expect(reports).toEqual([]);
  });
});

describe('transfers cut short', () => {
  const big = { nodes: ['n1', 'n2'], replicas: 2, chunking: { mode: 'regular' as const, size: 4 * CHUNK } };

  it('keep what arrived and ask another replica for the rest only', async () => {
    let cut = '';
    const { fx, net } = await setup(8 * CHUNK, { ...healthy, behave: (r) => (r.node === cut ? 'cut' : undefined) }, big);
    cut = firstPick(fx);
    const { gen, events } = engine(fx, net);
    expect(await collect(gen)).toEqual(fx.plain);
    const failed = of(events, 'chunk-failed').filter((f) => f.node === cut);
    expect(failed.length).toBeGreaterThan(0);
    expect(failed[0].message).toMatch(/^transfer cut short after \d+ bytes/);
    for (const f of failed) {
      const sealed = fx.manifest.chunks[f.index].sealedLength;
      const rest = net.requests.find((r) => r.index === f.index && r.node !== cut)!;
      expect(rest.range).toBe(sealed >> 1);
      expect(rest.sent).toBe(sealed - (sealed >> 1));
    }
    expect(of(events, 'chunk-report')).toEqual([]);
  });

  it('start over, reporting nobody, when the stitched copy does not verify', async () => {
    // the first pick sends half, then breaks; the other replica serves a corrupted rest
    let cut = '';
    const { fx, net } = await setup(4 * CHUNK, {
      ...healthy, behave: (r) => (r.node === cut && r.seq === 0 ? 'cut' : r.range !== undefined ? 'corrupt' : undefined),
    }, big);
    cut = firstPick(fx);
    const reports: unknown[] = [];
    const { gen, events } = engine(fx, net, { onReport: (r) => void reports.push(r) });
    expect(await collect(gen)).toEqual(fx.plain);
    expect(of(events, 'chunk-failed').map((f) => f.code)).toEqual(['node_unreachable', 'integrity_failed']);
    // the third request asked for the whole chunk again
    const asks = net.requestsFor(0);
    expect(asks.map((r) => r.range)).toEqual([undefined, (fx.manifest.chunks[0].sealedLength >> 1), undefined]);
    expect(reports).toEqual([]);
  });

  it('take the whole chunk from a node that ignores the range', async () => {
    let cut = '';
    const { fx, net } = await setup(4 * CHUNK, { ...healthy, behave: (r) => (r.node === cut ? 'cut' : 'no-range') }, big);
    cut = firstPick(fx);
    const { gen, events } = engine(fx, net);
    expect(await collect(gen)).toEqual(fx.plain);
    expect(of(events, 'chunk-failed')).toHaveLength(1);
  });
});
