// The download engine's contract: exact output in order, ranges, stamps first, failover and
// back-off, bounds and cancellation. Fake nodes on a virtual clock (engine-harness.ts).
import { describe, expect, it } from 'vitest';
import { chooseNode, newNodeStats, type EngineEvent } from '../../protocol/engine/index.ts';
import { engine, expectError, firstPick, of, otherReplica, setup, signer } from './engine-harness.ts';
import { CHUNK, FakeNetwork, VirtualClock, collect, createContent, gate, makeSigner } from './fixtures.ts';

// Tests about failover use perNode 8 so a busy replica never delays a retry: the property
// under test is "at once".
const roomy = { perNode: 8 };

describe('downloadContent: output', () => {
  it('yields the exact plaintext, every chunk verified once', async () => {
    const { fx, net } = await setup();
    const { gen, events } = engine(fx, net);
    expect(await collect(gen)).toEqual(fx.plain);
    expect(of(events, 'chunk-done').map((e) => e.index).sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(of(events, 'chunk-failed')).toEqual([]);
    expect(net.requests).toHaveLength(6);
    expect(of(events, 'done')[0].bytes).toBe(fx.plain.length);
    for (const e of of(events, 'chunk-done')) expect(fx.manifest.chunks[e.index].nodes).toContain(e.node);
  });

  it('handles irregular chunking and an exact multiple of the chunk size', async () => {
    const irregular = await createContent({
      size: 700_000, signer, chunking: { mode: 'irregular', min: CHUNK, max: 3 * CHUNK, seed: '0123456789abcdef0123456789abcdef' },
    });
    expect(await collect(engine(irregular, new FakeNetwork(irregular, { clock: new VirtualClock() })).gen)).toEqual(irregular.plain);
    const exact = await createContent({ size: CHUNK * 3, signer });
    expect(await collect(engine(exact, new FakeNetwork(exact, { clock: new VirtualClock() })).gen)).toEqual(exact.plain);
  });

  it('yields nothing for empty content and asks no node', async () => {
    const { fx, net } = await setup(0);
    expect(await collect(engine(fx, net).gen)).toEqual(new Uint8Array(0));
    expect(net.requests).toHaveLength(0);
  });

  it('keeps the order when later chunks arrive first', async () => {
    const { fx, net } = await setup(CHUNK * 6, {
      // chunk 0 answers last, chunk 5 first
      delay: (r) => new Promise((res) => setTimeout(res, (6 - r.index) * 4)),
    });
    const { gen, events } = engine(fx, net, roomy);
    expect(await collect(gen)).toEqual(fx.plain);
    const done = of(events, 'chunk-done').map((e) => e.index);
    expect(done[done.length - 1]).toBe(0);
    expect(of(events, 'chunk-delivered').map((e) => e.index)).toEqual([0, 1, 2, 3, 4, 5]);
  });
});

describe('downloadContent: ranges', () => {
  const size = CHUNK * 5 + 1234;
  const cases: Array<[string, number, number]> = [
    ['first byte', 0, 0],
    ['last byte', size - 1, size - 1],
    ['across a chunk boundary', CHUNK - 10, CHUNK + 10],
    ['exactly one chunk', CHUNK * 2, CHUNK * 3 - 1],
    ['middle to end', CHUNK * 2 + 77, size - 1],
    ['everything', 0, size - 1],
  ];
  it.each(cases)('%s', async (_name, start, end) => {
    const { fx, net } = await setup(size);
    const { gen } = engine(fx, net, { range: { start, end } });
    expect(await collect(gen)).toEqual(fx.plain.subarray(start, end + 1));
    const needed = new Set<number>();
    for (let i = Math.floor(start / CHUNK); i <= Math.floor(end / CHUNK); i++) needed.add(i);
    expect(new Set(net.requests.map((r) => r.index))).toEqual(needed);
  });

  it('refuses a range outside the content', async () => {
    const { fx, net } = await setup(size);
    for (const range of [{ start: 0, end: size }, { start: 5, end: 4 }, { start: -1, end: 3 }]) {
      const err = await expectError(collect(engine(fx, net, { range }).gen));
      expect(err.code).toBe('range_not_satisfiable');
    }
    expect(net.requests).toHaveLength(0);
  });
});

describe('downloadContent: stamps first', () => {
  it('asks no node when the manifest does not match its signed stamps', async () => {
    const { fx, net } = await setup();
    const chunks = fx.manifest.chunks.map((c, i) => (i === 1 ? { ...c, hash: fx.manifest.chunks[2].hash } : c));
    const err = await expectError(collect(engine({ ...fx, manifest: { ...fx.manifest, chunks } }, net).gen));
    expect(err.code).toBe('stamp_mismatch');
    expect(net.requests).toHaveLength(0);
  });

  it('asks no node when the stamps are signed by another key', async () => {
    const { fx, net } = await setup();
    const stranger = await makeSigner();
    const err = await expectError(collect(engine(fx, net, { publicKey: stranger.publicKey }).gen));
    expect(err.code).toBe('token_invalid');
    expect(net.requests).toHaveLength(0);
  });

  it('sends the download token to every node in the query, with no header that needs a CORS preflight', async () => {
    const { fx } = await setup();
    const seen: Array<{ t: string | null; headers: string[] }> = [];
    const net = new FakeNetwork(fx, { clock: new VirtualClock() });
    const spy: typeof net.fetch = (input, init) => {
      if (new URL(input).pathname.startsWith('/v1/chunks/')) {
        seen.push({ t: new URL(input).searchParams.get('t'), headers: [...new Headers(init?.headers).keys()] });
      }
      return net.fetch(input, init);
    };
    await collect(engine(fx, net, { fetch: spy }).gen);
    expect(seen.length).toBeGreaterThan(0);
    for (const s of seen) expect(s).toEqual({ t: fx.manifest.tokens.get, headers: [] });
  });
});

describe('downloadContent: failover', () => {
  it.each([
    ['HTTP 500', { status: 500 }, 'node_unreachable'],
    ['a network error', 'network', 'node_unreachable'],
    ['HTTP 404', { status: 404 }, 'chunk_not_found'],
    ['a corrupted chunk', 'corrupt', 'integrity_failed'],
    ['a truncated chunk', 'truncate', 'integrity_failed'],
    ['the wrong stamp header', 'wrong-stamp', 'stamp_mismatch'],
  ] as const)('fails over from a node answering with %s', async (_name, behaviour, code) => {
    const { fx, net } = await setup();
    const bad = firstPick(fx);
    net.set(bad, behaviour);
    const { gen, events } = engine(fx, net, roomy);
    expect(await collect(gen)).toEqual(fx.plain);
    const failed = of(events, 'chunk-failed');
    expect(failed.map((f) => f.index)).toContain(0);
    for (const f of failed) expect(f).toMatchObject({ node: bad, code });
    // each chunk the bad node failed was then fetched from its other replica
    for (const f of failed) {
      const done = of(events, 'chunk-done').find((e) => e.index === f.index)!;
      expect(done.node).toBe(otherReplica(fx, f.index, bad));
    }
    expect(of(events, 'chunk-done').some((e) => e.node === bad)).toBe(false);
    expect(of(events, 'node-backoff')[0]).toMatchObject({ node: bad, failures: 1 });
  });

  it('retries at once on the other replica, without waiting', async () => {
    const { fx, net } = await setup();
    net.set(firstPick(fx), 'network');
    const { gen, clock, events, times, t0 } = engine(fx, net, roomy);
    expect(await collect(gen)).toEqual(fx.plain);
    // no time passed: nothing waited for the failed node's back-off
    expect(clock.now()).toBe(t0);
    // the retry went out in the same instant the failure was seen
    events.forEach((e, i) => {
      if (e.type !== 'chunk-failed') return;
      const retry = events.findIndex((r, j) => j > i && r.type === 'chunk-request' && r.index === e.index);
      expect(retry).toBeGreaterThan(i);
      expect(times[retry]).toBe(times[i]);
    });
  });

  it('backs a failing node off: it is not asked again until its back-off ends', async () => {
    // two nodes holding every chunk: the first pump sends 4 requests to each at once
    const { fx, net } = await setup(CHUNK * 12, {}, ['n1', 'n3']);
    net.set('n3', { status: 503 });
    const { gen, events, times, clock } = engine(fx, net, { perNode: 4 });
    const t0 = clock.now();
    expect(await collect(gen)).toEqual(fx.plain);
    let until = -Infinity;
    let backoffs = 0;
    let failures = 0;
    events.forEach((e, i) => {
      if (e.type === 'node-backoff' && e.node === 'n3') {
        // escalated only by a request sent after the previous back-off ended
        expect(times[i]).toBeGreaterThanOrEqual(until);
        if (backoffs === 0) expect(e).toMatchObject({ until: t0 + 500, failures: 1 });
        else expect(e.until - times[i]).toBe(500 * 2 ** backoffs);
        until = e.until;
        backoffs++;
      }
      if (e.type === 'chunk-failed' && e.node === 'n3') failures++;
      if (e.type === 'chunk-request' && e.node === 'n3') expect(times[i]).toBeGreaterThanOrEqual(until);
    });
    expect(backoffs).toBeGreaterThan(0);
    // requests already in flight when n3 failed failed together and did not each escalate
    expect(failures).toBeGreaterThan(backoffs);
  });

  it('throws chunk_unavailable naming the chunk and the nodes tried when every replica fails', async () => {
    const { fx, net } = await setup(CHUNK * 6, { behave: (r) => (r.index === 2 ? 'network' : undefined) });
    const { gen, events, clock } = engine(fx, net);
    const got: Uint8Array[] = [];
    const err = await expectError((async () => {
      for await (const p of gen) got.push(p);
    })());
    expect(err.code).toBe('chunk_unavailable');
    const replicas = fx.manifest.chunks[2].nodes;
    expect(err.message).toMatch(/^chunk 2 unavailable; tried /);
    for (const n of replicas) expect(err.message).toContain(n);
    expect(err.details).toEqual({ index: 2, tried: expect.arrayContaining(replicas) });
    expect((err.details as { tried: string[] }).tried).toHaveLength(replicas.length);
    // the chunks before it were delivered in full
    expect(got.map((p) => p.length)).toEqual([CHUNK, CHUNK]);
    // first round plus two retries on each replica, with back-off in between
    for (const n of replicas) expect(net.requestsFor(2).filter((r) => r.node === n)).toHaveLength(3);
    expect(clock.sleeps.length).toBeGreaterThan(0);
    expect(of(events, 'chunk-unavailable')).toEqual([{ type: 'chunk-unavailable', index: 2, tried: expect.any(Array) }]);
    await new Promise((r) => setTimeout(r, 5));
    expect(net.inFlight).toBe(0);
  });

  it('never asks an excluded node, and fails a chunk whose replicas are all excluded', async () => {
    const { fx, net } = await setup();
    const { gen } = engine(fx, net, { exclude: ['n2'] });
    const chunksWithoutN2 = fx.manifest.chunks.every((c) => c.nodes.some((n) => n !== 'n2'));
    expect(chunksWithoutN2).toBe(true); // 2 replicas of 3 nodes: always another one
    expect(await collect(gen)).toEqual(fx.plain);
    expect(net.requests.some((r) => r.node === 'n2')).toBe(false);

    const err = await expectError(collect(engine(fx, net, { exclude: fx.manifest.chunks[0].nodes }).gen));
    expect(err).toMatchObject({ code: 'chunk_unavailable', details: { index: 0, tried: [] } });
  });
});

describe('downloadContent: clock, sleep and shared history', () => {
  it('waits out back-offs with the default setTimeout sleep and a real clock', async () => {
    const { fx, net } = await setup(CHUNK * 3, { behave: (r) => (r.index === 1 ? { status: 500 } : undefined) });
    const { gen } = engine(fx, net, { now: () => Date.now(), sleep: undefined, retry: { baseMs: 5, maxMs: 20 } });
    const t0 = Date.now();
    const err = await expectError(collect(gen));
    expect(err.code).toBe('chunk_unavailable');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(5);
    expect(net.requestsFor(1)).toHaveLength(6);
  });

  it('honours a retry policy with no retries', async () => {
    const { fx, net } = await setup(CHUNK * 3, { behave: (r) => (r.index === 1 ? 'network' : undefined) });
    const { gen, clock, t0 } = engine(fx, net, { retry: { retries: 0 } });
    await expect(collect(gen)).rejects.toMatchObject({ code: 'chunk_unavailable' });
    expect(net.requestsFor(1)).toHaveLength(2);
    expect(clock.now()).toBe(t0); // no back-off waited out
  });

  it('shares node history across downloads when given one stats table', async () => {
    const { fx, net } = await setup(CHUNK * 4, { latency: () => 5, bodyMs: () => 20 });
    const stats = new Map();
    const bad = firstPick(fx);
    net.set(bad, 'network');
    const first = engine(fx, net, { stats, ...roomy });
    expect(await collect(first.gen)).toEqual(fx.plain);
    expect(first.clock.now() - first.t0).toBeLessThan(100); // no back-off was waited out
    expect(stats.get(bad).backoffUntil).toBeGreaterThan(first.clock.now());
    expect(stats.get(otherReplica(fx, 0, bad)).rate).toBeGreaterThan(0);
    for (const s of stats.values()) expect(s.inFlight).toBe(0);
    // the second download, at the same instant, does not ask the backed-off node at all
    const before = net.requests.length;
    expect(await collect(engine(fx, net, { stats, ...roomy }).gen)).toEqual(fx.plain);
    expect(net.requests.slice(before).some((r) => r.node === bad)).toBe(false);
  });
});

describe('downloadContent: bounds and cancellation', () => {
  it('keeps in-flight plus buffered chunks within the window and requests within the limits', async () => {
    const { fx, net } = await setup(CHUNK * 20);
    const window = 4;
    const outstanding = new Set<number>();
    let max = 0;
    const track = (e: EngineEvent) => {
      if (e.type === 'chunk-request') outstanding.add(e.index);
      if (e.type === 'chunk-delivered') outstanding.delete(e.index);
      max = Math.max(max, outstanding.size);
    };
    const tracked = engine(fx, net, { window, concurrency: 3, perNode: 2, onEvent: track }).gen;
    const parts: Uint8Array[] = [];
    for await (const p of tracked) {
      parts.push(p);
      // a slow consumer: the engine must not run ahead of it
      await new Promise((r) => setTimeout(r, 3));
      const delivered = parts.length;
      const ahead = new Set(net.requests.filter((r) => r.index >= delivered).map((r) => r.index));
      expect(ahead.size).toBeLessThanOrEqual(window);
    }
    expect(max).toBeLessThanOrEqual(window);
    expect(max).toBe(window); // the bound was reached, so it was really tested
    expect(net.maxInFlight).toBeLessThanOrEqual(3);
    for (const n of net.maxPerNode.values()) expect(n).toBeLessThanOrEqual(2);
    expect(Buffer.from(await new Blob(parts as BlobPart[]).arrayBuffer())).toEqual(Buffer.from(fx.plain));
  });

  it('aborts every in-flight request when the consumer stops early', async () => {
    const held = gate();
    const { fx, net } = await setup(CHUNK * 10, { delay: (r) => (r.index === 0 ? undefined : held.promise) });
    const { gen } = engine(fx, net);
    for await (const p of gen) {
      expect(p).toEqual(fx.plain.subarray(0, CHUNK));
      break;
    }
    const pending = net.requests.filter((r) => r.index > 0);
    expect(pending.length).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 0));
    for (const r of pending) expect(r.state).toBe('aborted');
    expect(net.inFlight).toBe(0);
    held.open();
  });

  it('stops with the abort reason when the signal aborts', async () => {
    const held = gate();
    const { fx, net } = await setup(CHUNK * 10, { delay: (r) => (r.index < 2 ? undefined : held.promise) });
    const ac = new AbortController();
    const { gen } = engine(fx, net, { signal: ac.signal });
    const got: number[] = [];
    const run = (async () => {
      for await (const p of gen) {
        got.push(p.length);
        if (got.length === 2) setTimeout(() => ac.abort(new Error('user cancelled')), 1);
      }
    })();
    await expect(run).rejects.toThrow('user cancelled');
    expect(got).toEqual([CHUNK, CHUNK]);
    await new Promise((r) => setTimeout(r, 0));
    expect(net.requests.filter((r) => r.index >= 2).every((r) => r.state === 'aborted')).toBe(true);
    expect(net.inFlight).toBe(0);
    held.open();
  });

  it('does not start when the signal is already aborted', async () => {
    const { fx, net } = await setup();
    const ac = new AbortController();
    ac.abort();
    await expect(collect(engine(fx, net, { signal: ac.signal }).gen)).rejects.toThrow();
    expect(net.requests).toHaveLength(0);
  });
});

describe('chooseNode', () => {
  const stats = (id: string, patch: Partial<ReturnType<typeof newNodeStats>> = {}) => ({ ...newNodeStats(id), ...patch });
  const ctx = { now: 1000, perNode: 4, bytes: 100_000 };
  const measured = (id: string, rate: number, latency = 10) => stats(id, { rate, latency, rateSamples: 1, updatedAt: 1 });

  it('prefers the replica that failed this chunk least', () => {
    const a = measured('a', 100);
    const b = measured('b', 1);
    expect(chooseNode([{ node: a, failures: 1 }, { node: b, failures: 0 }], ctx)?.id).toBe('b');
  });

  it('skips nodes that are backed off, but not busy ones: the scheduler waits for those', () => {
    const a = stats('a', { backoffUntil: 2000 });
    expect(chooseNode([{ node: a, failures: 0 }], ctx)).toBeUndefined();
    expect(chooseNode([{ node: stats('a', { backoffUntil: 1000 }), failures: 0 }], ctx)?.id).toBe('a');
    const busy = measured('b', 1000);
    busy.inFlight = 4;
    expect(chooseNode([{ node: a, failures: 0 }, { node: busy, failures: 0, queueBytes: 300_000 }], ctx)?.id).toBe('b');
  });

  it('picks the earliest expected finish: a fast node with a queue over a slow idle one, until the queue is too long', () => {
    const fast = measured('fast', 1000);
    const slow = measured('slow', 100);
    // fast: (200 000 + 100 000) / 1000 = 300 ms; slow: 10 + 100 000 / 100 = 1010 ms
    expect(chooseNode([{ node: slow, failures: 0 }, { node: fast, failures: 0, queueBytes: 200_000 }], ctx)?.id).toBe('fast');
    // fast: 1 100 ms with a million bytes queued
    expect(chooseNode([{ node: slow, failures: 0 }, { node: fast, failures: 0, queueBytes: 1_000_000 }], ctx)?.id).toBe('slow');
  });

  it('counts response time: a far node loses a small chunk it would win on bandwidth alone', () => {
    const far = measured('far', 2000, 300);
    const near = measured('near', 1000, 5);
    expect(chooseNode([{ node: far, failures: 0 }, { node: near, failures: 0 }], { ...ctx, bytes: 64_000 })?.id).toBe('near');
    expect(chooseNode([{ node: far, failures: 0 }, { node: near, failures: 0 }], { ...ctx, bytes: 4_000_000 })?.id).toBe('far');
  });

  it('gives unmeasured nodes the best known rate so they get tried', () => {
    const known = measured('known', 50);
    const fresh = stats('fresh');
    expect(chooseNode([{ node: known, failures: 0, queueBytes: 50_000 }, { node: fresh, failures: 0 }], ctx)?.id).toBe('fresh');
  });

  it("uses the manager's hints for nodes never measured: same region, then higher grade", () => {
    const a = stats('a');
    const b = stats('b');
    const c = stats('c');
    const cands = [
      { node: a, failures: 0, hint: { region: 'eu', grade: 1 } },
      { node: b, failures: 0, hint: { region: 'us', grade: 1 } },
      { node: c, failures: 0, hint: { region: 'us', grade: 5 } },
    ];
    expect(chooseNode(cands, { ...ctx, region: 'us' })?.id).toBe('c');
    expect(chooseNode(cands, { ...ctx, region: 'eu' })?.id).toBe('a');
    expect(chooseNode(cands, ctx)?.id).toBe('c');
    // once measured, hints no longer count: equal nodes tie, and the one asked less wins
    const ma = measured('a', 1000);
    const mc = { ...measured('c', 1000), requests: 3 };
    expect(chooseNode([{ ...cands[2], node: mc }, { ...cands[0], node: ma }], { ...ctx, region: 'us' })?.id).toBe('a');
  });

  it("follows the user's preference unless another node is more than twice as fast", () => {
    const a = measured('a', 1000);
    const b = measured('b', 600);
    expect(chooseNode([{ node: a, failures: 0 }, { node: b, failures: 0 }], ctx)?.id).toBe('a');
    expect(chooseNode([{ node: a, failures: 0 }, { node: b, failures: 0 }], { ...ctx, prefer: new Set(['b']) })?.id).toBe('b');
    const slow = measured('b', 300);
    expect(chooseNode([{ node: a, failures: 0 }, { node: slow, failures: 0 }], { ...ctx, prefer: new Set(['b']) })?.id).toBe('a');
  });

  it('breaks ties at random', () => {
    const pick = (values: number[]) => {
      let i = 0;
      return chooseNode([{ node: stats('a'), failures: 0 }, { node: stats('b'), failures: 0 }], { ...ctx, random: () => values[i++ % values.length] })?.id;
    };
    expect(pick([0.9, 0.1])).toBe('b');
    expect(pick([0.1, 0.9])).toBe('a');
    // but never between nodes that are not tied
    const a = measured('a', 1000);
    const b = measured('b', 800);
    expect(chooseNode([{ node: a, failures: 0 }, { node: b, failures: 0 }], { ...ctx, random: (() => { let i = 0; return () => [0.99, 0][i++ % 2]; })() })?.id).toBe('a');
  });
});
