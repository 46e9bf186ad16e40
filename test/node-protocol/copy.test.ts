// Node-to-node copy: a single-use order makes the node under test fetch a chunk from another
// node (a peer of the same platform, or a fake source) and keep it only if it is exactly what
// the order says. The node under test is the target in most cases and the source in one.
import { beforeAll, describe, expect, it } from 'vitest';
import type { PeerNode } from './target.ts';
import {
  auth, call, type Chunk, getTokenFor, makeChunk, newContent, nonce, peek, sign, soon, stored, target, upload,
} from './helpers.ts';

let peer: PeerNode;

beforeAll(async () => {
  peer = await target.peer();
});

/** A chunk stored on the peer (n2). */
async function onPeer(size = 5000): Promise<Chunk> {
  const ch = await makeChunk(size);
  const res = await upload(ch, undefined, peer.call, peer.id);
  if (res.status !== 201) throw new Error(`peer upload: ${res.status} ${await res.text()}`);
  return ch;
}

interface OrderOver { n?: string; h?: string; c?: string; s?: string; z?: number; src?: string; o?: string; exp?: number; g?: string }

/** A copy order for `ch`, from `src` (the peer unless said) to `n` (the node under test unless said). */
async function order(ch: Chunk, over: OrderOver = {}): Promise<string> {
  const g = over.g ?? (await sign({ t: 'get', c: ch.content, h: ch.hash, exp: soon() }));
  return sign({
    t: 'copy', n: over.n ?? 'n1', c: over.c ?? ch.content, v: 1, h: over.h ?? ch.hash, s: over.s ?? ch.stamp,
    z: over.z ?? ch.data.length, src: over.src ?? peer.url, g, o: over.o ?? nonce(), exp: over.exp ?? soon(),
  });
}

const copy = (hash: string, token: string, to = call) => to(`/v1/chunks/${hash}/copy`, { method: 'POST', headers: auth(token) });

async function envelope(res: Response): Promise<[number, string, unknown]> {
  const body = (await res.json()) as { error: { code: string; details?: unknown } };
  return [res.status, body.error.code, body.error.details];
}

async function readBack(ch: Chunk, from = call): Promise<Uint8Array> {
  const res = await from(`/v1/chunks/${ch.hash}`, { headers: auth(await getTokenFor(ch.content)) });
  expect(res.status).toBe(200);
  expect(res.headers.get('bunsan-stamp')).toBe(ch.stamp);
  return new Uint8Array(await res.arrayBuffer());
}

describe('a copy order carried out', () => {
  it('fetches the chunk from the source and keeps it with its content, stamp and version', async () => {
    const ch = await onPeer(70_000);
    const res = await copy(ch.hash, await order(ch));
    expect(res.status).toBe(201);
    expect(await res.json()).toEqual({ stored: true, hash: ch.hash, size: 70_000 });
    expect(await peek(ch.hash)).toEqual({ content: ch.content, stamp: ch.stamp, version: '1' });
    expect(await readBack(ch)).toEqual(ch.data);
  });

  it('serves as the source of another node\'s copy', async () => {
    const ch = await stored(await makeChunk(9000));
    const res = await copy(ch.hash, await order(ch, { n: peer.id, src: target.url }), peer.call);
    expect(res.status).toBe(201);
    expect(await readBack(ch, peer.call)).toEqual(ch.data);
  });

  it('refuses the same order twice: it is single use', async () => {
    const ch = await onPeer();
    const o = await order(ch);
    expect((await copy(ch.hash, o)).status).toBe(201);
    const again = await copy(ch.hash, o);
    const [status, code] = await envelope(again);
    expect([status, code]).toEqual([409, 'conflict']);
  });

  it('answers 200 existed for a chunk already here under the content, 409 under another', async () => {
    const ch = await stored(await makeChunk(3000));
    const res = await copy(ch.hash, await order(ch, { src: await target.deadSource() }));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ stored: true, existed: true, hash: ch.hash, size: 3000 });
    const other = await copy(ch.hash, await order({ ...ch, content: newContent() }));
    expect((await envelope(other)).slice(0, 2)).toEqual([409, 'conflict']);
    expect((await peek(ch.hash))?.content).toBe(ch.content);
  });
});

describe('a copy order refused', () => {
  it('refuses an order for another node or another chunk, a forged or an expired one, with nothing stored', async () => {
    const ch = await onPeer();
    const other = await makeChunk();
    const stranger = await crypto.subtle.generateKey({ name: 'Ed25519' }, false, ['sign']) as CryptoKeyPair;
    const forged = await sign({
      t: 'copy', n: 'n1', c: ch.content, v: 1, h: ch.hash, s: ch.stamp, z: ch.data.length, src: peer.url, g: 'x', o: nonce(), exp: soon(),
    }, stranger.privateKey);
    const cases: [string, Promise<Response>, number, string][] = [
      ['another node', copy(ch.hash, await order(ch, { n: 'n9' })), 403, 'wrong_audience'],
      ['another chunk', copy(ch.hash, await order(ch, { h: other.hash })), 403, 'wrong_audience'],
      ['forged', copy(ch.hash, forged), 401, 'token_invalid'],
      ['expired', copy(ch.hash, await order(ch, { exp: Math.floor(Date.now() / 1000) - 1 })), 401, 'token_expired'],
      ['a get token', copy(ch.hash, await getTokenFor(ch.content)), 403, 'forbidden'],
      ['no token', call(`/v1/chunks/${ch.hash}/copy`, { method: 'POST' }), 401, 'unauthorized'],
      ['bad name', copy('zz', await order(ch)), 400, 'invalid_hash'],
      ['wrong method', call(`/v1/chunks/${ch.hash}/copy`, { method: 'GET', headers: auth(await order(ch)) }), 405, 'method_not_allowed'],
    ];
    for (const [name, res, status, code] of cases) expect((await envelope(await res)).slice(0, 2), name).toEqual([status, code]);
    expect(await peek(ch.hash)).toBeNull();
  });

  it('keeps nothing from a source that sends bad bytes, a wrong stamp, a wrong length or a refusal', async () => {
    const ch = await makeChunk(4000);
    const wrong = await makeChunk(4000);
    const answer = (body: Uint8Array | null, status = 200, stamp = ch.stamp) => target.fakeSource(() =>
      new Response(body as BodyInit | null, { status, headers: { 'bunsan-stamp': stamp, 'content-type': 'application/octet-stream' } }));
    const sources: [string, string][] = [
      ['bad bytes', await answer(wrong.data)],
      ['wrong stamp', await answer(ch.data, 200, wrong.stamp)],
      ['too long', await answer(new Uint8Array([...ch.data, 1]))],
      ['too short', await answer(ch.data.subarray(0, 3999))],
      ['refusal', await answer(new TextEncoder().encode('{"error":{"code":"forbidden","message":"no"}}'), 403)],
      ['not found', await answer(null, 404)],
      ['a real node without the chunk', peer.url],
    ];
    for (const [name, src] of sources) {
      const res = await copy(ch.hash, await order(ch, { src }));
      expect(await envelope(res), name).toEqual([502, 'integrity_failed', { source: 'bad' }]);
    }
    expect(await peek(ch.hash)).toBeNull();
  });

  it('answers node_unreachable for a source that is down or silent, and keeps nothing', async () => {
    const ch = await makeChunk(2000);
    const down = await copy(ch.hash, await order(ch, { src: await target.deadSource() }));
    expect(await envelope(down)).toEqual([502, 'node_unreachable', { source: 'unreachable' }]);
    const silent = await target.fakeSource(() => new Promise<Response>(() => {}));
    const started = Date.now();
    const hung = await copy(ch.hash, await order(ch, { src: silent }));
    expect(await envelope(hung)).toEqual([502, 'node_unreachable', { source: 'unreachable' }]);
    // it gave up at its deadline, not at the test's
    expect(Date.now() - started).toBeGreaterThanOrEqual(target.copyTimeoutMs - 100);
    expect(await peek(ch.hash)).toBeNull();
  });
});
