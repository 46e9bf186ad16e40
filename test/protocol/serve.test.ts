// The request core shared by the service worker and the in-page player: the window of
// decrypted chunks, ranges served from it and from the engine, and the response plan.
import { describe, expect, it, vi } from 'vitest';
import { parseContentPath, contentPath } from '../../protocol/serve/content-path.ts';
import { createContentSource } from '../../protocol/serve/content-source.ts';
import { PlainWindow, chunkKey } from '../../protocol/serve/plain-window.ts';
import { plaintextRange, rangeStream } from '../../protocol/serve/range-stream.ts';
import { planResponse } from '../../protocol/serve/response-plan.ts';
import { CHUNK, FakeNetwork, collect, createContent, cryptoLike, gate, makeSigner, type ContentFixture } from './fixtures.ts';

const signer = await makeSigner();
const fx = await createContent({ size: CHUNK * 6 + 999, signer });

function ranged(f: ContentFixture, net: FakeNetwork, start: number, end: number, cache?: PlainWindow) {
  return plaintextRange({
    manifest: f.manifest, publicKey: signer.publicKey, crypto: cryptoLike, fetch: net.fetch,
    now: () => f.manifest.createdAt, range: { start, end }, cache,
  });
}

describe('PlainWindow', () => {
  it('evicts the least recently used chunks past its byte cap', () => {
    const w = new PlainWindow(10);
    w.put('a', new Uint8Array(4));
    w.put('b', new Uint8Array(4));
    w.get('a'); // a is now newer than b
    w.put('c', new Uint8Array(4));
    expect([w.has('a'), w.has('b'), w.has('c')]).toEqual([true, false, true]);
    expect(w.bytes).toBe(8);
    w.put('huge', new Uint8Array(11));
    expect(w.has('huge')).toBe(false);
    expect(chunkKey('x', 2, 3)).not.toBe(chunkKey('x', 3, 2));
  });
});

describe('plaintextRange', () => {
  it('is byte-exact for ranges inside, across and at the edges of chunks', async () => {
    const net = new FakeNetwork(fx);
    const size = fx.plain.length;
    for (const [s, e] of [[0, size - 1], [0, 0], [CHUNK - 1, CHUNK], [CHUNK, 2 * CHUNK - 1], [size - 1, size - 1], [123, 4 * CHUNK + 7]]) {
      expect(await collect(ranged(fx, net, s, e))).toEqual(fx.plain.subarray(s, e + 1));
    }
  });

  it('serves a repeated range from the window without a single request', async () => {
    const net = new FakeNetwork(fx);
    const w = new PlainWindow(64 * CHUNK);
    await collect(ranged(fx, net, 1000, fx.plain.length - 1, w));
    const before = net.requests.length;
    expect(await collect(ranged(fx, net, 1000, fx.plain.length - 1, w))).toEqual(fx.plain.subarray(1000));
    expect(net.requests.length).toBe(before);
  });

  it('fetches only the chunks the window lacks', async () => {
    const net = new FakeNetwork(fx);
    const w = new PlainWindow(64 * CHUNK);
    await collect(ranged(fx, net, 2 * CHUNK, 3 * CHUNK - 1, w)); // chunk 2 only
    net.requests.length = 0;
    expect(await collect(ranged(fx, net, 0, fx.plain.length - 1, w))).toEqual(fx.plain);
    expect(new Set(net.requests.map((r) => r.index))).toEqual(new Set([0, 1, 3, 4, 5, 6]));
  });

  /** A whole-content stream whose chunks after the first wait for `g` to open. */
  const heldStream = () => {
    const g = gate();
    const net = new FakeNetwork(fx, { delay: (r) => (r.index > 0 ? g.promise : undefined) });
    const stream = rangeStream({
      manifest: fx.manifest, publicKey: signer.publicKey, crypto: cryptoLike, fetch: net.fetch, now: () => fx.manifest.createdAt,
      range: { start: 0, end: fx.plain.length - 1 },
    });
    return { g, net, reader: stream.getReader() };
  };

  it('as a stream, stops fetching when the reader cancels', async () => {
    const { g, net, reader } = heldStream();
    expect((await reader.read()).value).toEqual(fx.plain.subarray(0, CHUNK));
    // cancel() returns at once; the abort follows on a later task (iterator-stream.ts: WebKit).
    await reader.cancel();
    await vi.waitFor(() => expect(net.aborted).toBeGreaterThan(0), { timeout: 5000 });
    g.open();
    await vi.waitFor(() => expect(net.inFlight).toBe(0), { timeout: 5000 });
  });

  it('as a stream, aborts nothing inside cancel() itself, only on a later task', async () => {
    const { g, net, reader } = heldStream();
    await reader.read();
    // WebKit hangs its service worker if the transfers are torn down from within its cancel call.
    void reader.cancel();
    expect(net.aborted).toBe(0);
    await vi.waitFor(() => expect(net.aborted).toBeGreaterThan(0), { timeout: 5000 });
    g.open();
  });
});

describe('planResponse', () => {
  const m = fx.manifest;
  const size = m.size;
  it('answers 200, 206 and 416 with exact headers', () => {
    expect(planResponse(m, { method: 'GET' })).toMatchObject({ status: 200, range: { start: 0, end: size - 1 }, headers: { 'content-length': String(size), 'accept-ranges': 'bytes' } });
    expect(planResponse(m, { method: 'GET', range: 'bytes=-10' })).toMatchObject({ status: 206, range: { start: size - 10, end: size - 1 }, headers: { 'content-range': `bytes ${size - 10}-${size - 1}/${size}`, 'content-length': '10' } });
    expect(planResponse(m, { method: 'GET', range: 'bytes=5-' }).headers['content-length']).toBe(String(size - 5));
    expect(planResponse(m, { method: 'GET', range: `bytes=${size}-` })).toMatchObject({ status: 416, range: null, headers: { 'content-range': `bytes */${size}` } });
  });

  it('shortens an open-ended range to the limit, and only an open-ended one', () => {
    expect(planResponse(m, { method: 'GET', range: 'bytes=10-', openEndedLimit: 100 })).toMatchObject({ status: 206, range: { start: 10, end: 109 }, headers: { 'content-range': `bytes 10-109/${size}`, 'content-length': '100' } });
    expect(planResponse(m, { method: 'GET', range: 'bytes=10-5000', openEndedLimit: 100 }).range).toEqual({ start: 10, end: 5000 });
    expect(planResponse(m, { method: 'GET', range: `bytes=${size - 5}-`, openEndedLimit: 100 }).range).toEqual({ start: size - 5, end: size - 1 });
    expect(planResponse(m, { method: 'GET', openEndedLimit: 100 }).status).toBe(200);
  });

  it('ignores ranges it does not serve and stale If-Range, and sends no body for HEAD', () => {
    expect(planResponse(m, { method: 'GET', range: 'bytes=0-1,5-6' }).status).toBe(200);
    expect(planResponse(m, { method: 'GET', range: 'bytes=0-1', ifRange: '"other"' }).status).toBe(200);
    const etag = planResponse(m, { method: 'GET' }).headers.etag;
    expect(planResponse(m, { method: 'GET', range: 'bytes=0-1', ifRange: etag }).status).toBe(206);
    expect(planResponse(m, { method: 'HEAD', range: 'bytes=0-1' })).toMatchObject({ status: 206, range: null });
    expect(planResponse({ ...m, size: 0 }, { method: 'GET' })).toMatchObject({ status: 200, range: null, headers: { 'content-length': '0' } });
  });
});

describe('content paths and the content source', () => {
  const id = 'a'.repeat(32);
  it('parses /c/{id} and /c/{id}/{name}, nothing else', () => {
    expect(parseContentPath(`/c/${id}`)).toEqual({ id, name: null });
    expect(parseContentPath(contentPath(id, 'a b/é.webm'))).toEqual({ id, name: 'a b/é.webm' });
    for (const p of ['/c/', `/c/${id}/x/y`, '/c/ABC', `/x/${id}`, `/c/${id}/%E0%A4%A`]) expect(parseContentPath(p)).toBeNull();
  });

  it('asks for a manifest once while it is fresh, and again after a failure', async () => {
    let calls = 0;
    let fail = true;
    const fetch = async () => {
      calls++;
      if (fail) return new Response('{"error":{"code":"internal","message":"x"}}', { status: 500 });
      return Response.json(fx.manifest);
    };
    let t = 0;
    const src = createContentSource({ portal: 'http://portal.test', fetch, crypto: cryptoLike, now: () => t, ttlMs: 1000 });
    await expect(src.manifest(fx.manifest.id)).rejects.toThrow();
    fail = false;
    await src.manifest(fx.manifest.id);
    await src.manifest(fx.manifest.id);
    expect(calls).toBe(2);
    t = 2000;
    await src.manifest(fx.manifest.id);
    expect(calls).toBe(3);
  });
});
