// Copies move while downloads run (a drain, a wandering content): a manifest lists the holders
// as they were when it was made. When every node listed for a chunk has failed it, the engine
// asks for a fresh manifest once for all waiting chunks, checks it describes the same sealed
// chunks, and goes on with the new holders; without a way to ask, the chunk is unavailable.
import { describe, expect, it } from 'vitest';
import { expiresIn, issueToken } from '../../protocol/tokens.ts';
import type { EngineEvent } from '../../protocol/engine/events.ts';
import type { Manifest } from '../../protocol/manifest.ts';
import { engine, expectError, of, signer } from './engine-harness.ts';
import { CHUNK, FakeNetwork, VirtualClock, collect, cryptoLike, createContent, nodeUrl, type FakeRequest } from './fixtures.ts';

const ALL = ['n1', 'n2', 'n3', 'n4'];
const info = (id: string) => ({ id, url: nodeUrl(id), region: 'test', grade: 1 });
/** The manifest as a portal would give it with every chunk on `holders`. */
const listing = (m: Manifest, holders: string[], token = m.tokens.get): Manifest =>
  ({ ...m, nodes: holders.map(info), chunks: m.chunks.map((c) => ({ ...c, nodes: holders })), tokens: { get: token } });

async function moving() {
  const fx = await createContent({ size: CHUNK * 8 + 99, signer, nodes: ALL });
  const old = listing(fx.manifest, ['n1', 'n2']);
  const fresh = listing(fx.manifest, ['n3', 'n4'], await issueToken(cryptoLike, signer.privateKey, { t: 'get', c: fx.manifest.id, exp: expiresIn(fx.manifest.createdAt, 7200) }));
  /** where the chunks are now: the old holders until `move()` */
  let holders = new Set(['n1', 'n2']);
  const net = new FakeNetwork(fx, {
    clock: new VirtualClock(), latency: () => 1, bodyMs: () => 4,
    behave: (r: FakeRequest) => (holders.has(r.node) ? undefined : { status: 404 }),
  });
  return { fx: { ...fx, manifest: old }, fresh, net, move: () => void (holders = new Set(['n3', 'n4'])) };
}

describe('downloadContent: copies that moved', () => {
  it('asks for a fresh manifest once when every listed holder answers 404 mid-download, and finishes byte for byte', async () => {
    const { fx, fresh, net, move } = await moving();
    let asked = 0;
    const events: EngineEvent[] = [];
    // The chunks move once the download is under way: two chunks are in, the window holds more.
    const run = engine(fx, net, {
      window: 3, refresh: async () => (asked++, fresh),
      onEvent: (e) => {
        events.push(e);
        if (e.type === 'chunk-done' && e.index === 1) move();
      },
    });
    expect(await collect(run.gen)).toEqual(fx.plain);
    expect(asked).toBe(1);
    expect(of(events, 'manifest-refresh')).toHaveLength(1);
    expect(of(events, 'chunk-done').some((e) => e.node === 'n1' || e.node === 'n2')).toBe(true);
    expect(of(events, 'chunk-done').filter((e) => e.index >= 4).every((e) => e.node === 'n3' || e.node === 'n4')).toBe(true);
    expect(of(events, 'done')[0].refreshes).toBe(1);
    // The fresh manifest's token is the one sent from then on.
    const late = net.requests.filter((r) => r.node === 'n3' || r.node === 'n4');
    expect(late.length).toBeGreaterThan(0);
    for (const r of late) expect(r.query).toBe(fresh.tokens.get);
  });

  it('without a way to ask, a chunk whose holders all moved is unavailable (why the refresh exists)', async () => {
    const { fx, net, move } = await moving();
    move();
    const err = await expectError(collect(engine(fx, net).gen));
    expect(err.code).toBe('chunk_unavailable');
  });

  it('gives up after two fresh manifests that still list no working holder', async () => {
    const { fx, net, move } = await moving();
    move();
    let asked = 0;
    const err = await expectError(collect(engine(fx, net, { refresh: async () => (asked++, fx.manifest) }).gen));
    expect(err.code).toBe('chunk_unavailable');
    expect(asked).toBe(2);
  });

  it('refuses a fresh manifest of other chunks: the content changed, the chunk is unavailable', async () => {
    const { fx, fresh, net, move } = await moving();
    move();
    const other = { ...fresh, chunks: fresh.chunks.map((c, i) => (i === 0 ? { ...c, hash: 'a'.repeat(64) } : c)) };
    const err = await expectError(collect(engine(fx, net, { refresh: async () => other }).gen));
    expect(err.code).toBe('chunk_unavailable');
    expect(err.message).toMatch(/content changed/);
  });

  it('a portal that cannot answer leaves the chunk unavailable with the reason', async () => {
    const { fx, net, move } = await moving();
    move();
    const err = await expectError(collect(engine(fx, net, { refresh: () => Promise.reject(new Error('portal down')) }).gen));
    expect(err.code).toBe('chunk_unavailable');
    expect(err.message).toMatch(/portal down/);
  });

  it('keeps excluded nodes excluded among the new holders', async () => {
    const { fx, fresh, net, move } = await moving();
    move();
    const run = engine(fx, net, { exclude: ['n3'], refresh: async () => fresh });
    expect(await collect(run.gen)).toEqual(fx.plain);
    expect(net.requests.some((r) => r.node === 'n3')).toBe(false);
    expect(of(run.events, 'chunk-done').every((e) => e.node === 'n4')).toBe(true);
  });
});
