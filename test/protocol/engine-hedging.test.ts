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
    // the straggler's measured speed keeps later chunks away from it
    const asked = net.requests.filter((r) => r.node === slowNode).map((r) => r.seq);
    expect(Math.max(...asked)).toBeLessThan(net.requests.length / 2);
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

describe('stalls', () => {
  it('abandons a request that receives nothing for stallMs, backs its node off and refetches at once', async () => {
    let silent = '';
    const { fx, net } = await setup(CHUNK * 3, { latency: (r) => (r.node === silent ? Infinity : 10) });
    silent = firstPick(fx);
    const { gen, events, times, t0 } = engine(fx, net, { hedging: false, retry: { stallMs: 1500 } });
    expect(await collect(gen)).toEqual(fx.plain);
    const failed = of(events, 'chunk-failed');
    expect(failed.length).toBeGreaterThan(0);
    for (const f of failed) {
      expect(f).toMatchObject({ node: silent, code: 'node_unreachable' });
      expect(f.message).toMatch(/^stalled: nothing received for 1500 ms/);
      expect(times[events.indexOf(f)]).toBe(t0 + 1500);
      expect(of(events, 'chunk-done').find((d) => d.index === f.index)!.node).toBe(otherReplica(fx, f.index, silent));
    }
    expect(of(events, 'node-backoff')[0]).toMatchObject({ node: silent, failures: 1 });
    for (const r of net.requests.filter((q) => q.node === silent)) expect(r.state).toBe('aborted');
  });

  it('a stalled body (bytes stop coming) counts as a stall too', async () => {
    const { fx, net } = await setup(CHUNK * 2, { latency: () => 10, bodyMs: (r) => (r.node === 'n1' ? Infinity : 20) }, { nodes: ['n1', 'n2'] });
    const { gen, events } = engine(fx, net, { hedging: false, retry: { stallMs: 800 } });
    expect(await collect(gen)).toEqual(fx.plain);
    const failed = of(events, 'chunk-failed').filter((f) => f.node === 'n1');
    expect(failed.length).toBeGreaterThan(0);
    expect(failed[0].message).toMatch(/^stalled/);
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
