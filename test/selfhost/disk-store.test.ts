// What only a node on disk has: a capacity and a disk that fill up (507, nothing stored), files
// damaged behind its back (never served, set aside, reported), its folder layout, and the
// leftovers it sweeps. The node application runs in-process over a temporary folder.
import { createHash, randomBytes, webcrypto } from 'node:crypto';
import { existsSync, mkdtempSync, openSync, readdirSync, rmSync, statSync, truncateSync, writeFileSync, writeSync, closeSync, mkdirSync, readSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { CryptoLike } from '../../protocol/crypto-like.ts';
import { newContentId } from '../../protocol/ids.ts';
import { generateSigningKeyPair, importPrivateKey } from '../../protocol/signing.ts';
import { expiresIn, issueToken, type AnyToken } from '../../protocol/tokens.ts';
import { chunkPath, HEADER_BYTES, layout, orderPath } from '../../selfhost/disk-layout.ts';
import { openDiskStore, type CorruptChunk, type DiskStoreOptions } from '../../selfhost/disk-store.ts';
import { createSelfHostedApp } from '../../selfhost/node-app.ts';

const cryptoLike = webcrypto as unknown as CryptoLike;
const keys = await generateSigningKeyPair(cryptoLike);
const key = await importPrivateKey(cryptoLike, keys.privateKey);
const root = mkdtempSync(join(tmpdir(), 'bunsan-disk-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const sign = (t: AnyToken) => issueToken(cryptoLike, key, t);
const exp = () => expiresIn(Date.now(), 600);
let dirs = 0;

async function node(over: Partial<DiskStoreOptions> = {}) {
  const dir = join(root, `n${++dirs}`);
  const corrupt: CorruptChunk[] = [];
  const store = await openDiskStore({ dir, capacity: null, onCorrupt: (c) => corrupt.push(c), ...over });
  const app = createSelfHostedApp({ store, nodeId: 'n1', signingPublicKey: keys.publicKey });
  const content = newContentId(cryptoLike);
  const stamp = sha(Buffer.from('s'));
  const call = async (path: string, init?: RequestInit) => app.request(`http://node.test${path}`, init);
  const put = async (body: Uint8Array<ArrayBuffer>) => call(`/v1/chunks/${sha(body)}`, {
    method: 'PUT', body, headers: { authorization: `Bearer ${await sign({ t: 'put', c: content, v: 1, n: 'n1', h: sha(body), s: stamp, exp: exp() })}` },
  });
  const get = async (hash: string, range?: string) => call(`/v1/chunks/${hash}`, {
    headers: { authorization: `Bearer ${await sign({ t: 'get', c: content, exp: exp() })}`, ...(range ? { range } : {}) },
  });
  return { dir, store, call, put, get, corrupt, content, stamp };
}

const code = async (res: Response) => [res.status, ((await res.json()) as { error: { code: string } }).error.code];

/** Overwrites one byte of a chunk file's body in place, as a failing disk would. */
function flipByte(dir: string, hash: string, at: number): void {
  const fd = openSync(chunkPath(layout(dir), hash), 'r+');
  const b = Buffer.alloc(1);
  readSync(fd, b, 0, 1, HEADER_BYTES + at);
  writeSync(fd, Buffer.from([b[0] ^ 0xff]), 0, 1, HEADER_BYTES + at);
  closeSync(fd);
}

describe('a full node', () => {
  it('answers 507 past its capacity and stores nothing', async () => {
    const n = await node({ capacity: 10_000 });
    const first = randomBytes(8000);
    expect((await n.put(first)).status).toBe(201);
    const more = randomBytes(4000);
    expect(await code(await n.put(more))).toEqual([507, 'insufficient_storage']);
    expect(await n.store.head(sha(more))).toBeNull();
    expect(readdirSync(layout(n.dir).tmp)).toEqual([]);
    expect(n.store.bytesHeld()).toBe(8000);
    // room again once something goes
    const del = await n.call(`/v1/chunks/${sha(first)}`, { method: 'DELETE', headers: { authorization: `Bearer ${await sign({ t: 'mgmt', n: 'n1', exp: exp() })}` } });
    expect(del.status).toBe(200);
    expect((await n.put(more)).status).toBe(201);
    expect(n.store.bytesHeld()).toBe(4000);
  });

  it('answers 507 when the disk has no room left for it, and stores nothing', async () => {
    // everything the disk has free is kept for other users of the disk
    const n = await node({ reserve: Number.MAX_SAFE_INTEGER });
    const body = randomBytes(1000);
    expect(await code(await n.put(body))).toEqual([507, 'insufficient_storage']);
    expect(await n.store.head(sha(body))).toBeNull();
    expect(await n.store.freeBytes()).toBe(0);
  });

  it('counts what it holds again when it starts', async () => {
    const n = await node();
    for (const size of [100, 200, 300]) expect((await n.put(randomBytes(size))).status).toBe(201);
    const again = await openDiskStore({ dir: n.dir, capacity: null });
    expect([again.bytesHeld(), again.chunksHeld()]).toEqual([600, 3]);
  });
});

describe('damaged files', () => {
  it('never serves a whole chunk that does not hash to its name: 500 chunk_corrupt, set aside, reported', async () => {
    const n = await node();
    const body = randomBytes(100_000);
    expect((await n.put(body)).status).toBe(201);
    flipByte(n.dir, sha(body), 5000);
    expect(await code(await n.get(sha(body)))).toEqual([500, 'chunk_corrupt']);
    expect(n.corrupt).toMatchObject([{ hash: sha(body), content: n.content }]);
    expect(readdirSync(layout(n.dir).corrupt)).toHaveLength(1);
    expect(await code(await n.get(sha(body)))).toEqual([404, 'chunk_not_found']);
    expect(n.store.chunksHeld()).toBe(0);
  });

  it('checks a file before its first range is served', async () => {
    const n = await node();
    const body = randomBytes(50_000);
    expect((await n.put(body)).status).toBe(201);
    // a fresh process has verified nothing yet
    const fresh = await openDiskStore({ dir: n.dir, capacity: null, onCorrupt: (c) => n.corrupt.push(c) });
    flipByte(n.dir, sha(body), 40_000);
    const app = createSelfHostedApp({ store: fresh, nodeId: 'n1', signingPublicKey: keys.publicKey });
    const res = await app.request(`http://node.test/v1/chunks/${sha(body)}`, {
      headers: { authorization: `Bearer ${await sign({ t: 'get', c: n.content, exp: exp() })}`, range: 'bytes=0-99' },
    });
    expect(await code(res)).toEqual([500, 'chunk_corrupt']);
    expect(n.corrupt.map((c) => c.hash)).toEqual([sha(body)]);
  });

  it('serves ranges of a file it verified, streamed from disk', async () => {
    const n = await node();
    const body = randomBytes(3 * 1024 * 1024);
    expect((await n.put(body)).status).toBe(201);
    const res = await n.get(sha(body), 'bytes=1048576-2097151');
    expect(res.status).toBe(206);
    expect(Buffer.from(await res.arrayBuffer()).equals(body.subarray(1048576, 2097152))).toBe(true);
  });

  it('sets aside a file whose header is damaged or whose body is cut short', async () => {
    const n = await node();
    const a = randomBytes(3000);
    const b = randomBytes(3000);
    expect((await n.put(a)).status).toBe(201);
    expect((await n.put(b)).status).toBe(201);
    writeFileSync(chunkPath(layout(n.dir), sha(a)), Buffer.alloc(400, 7));
    truncateSync(chunkPath(layout(n.dir), sha(b)), HEADER_BYTES + 1000);
    expect(await code(await n.get(sha(a)))).toEqual([404, 'chunk_not_found']);
    expect(await code(await n.get(sha(b)))).toEqual([404, 'chunk_not_found']);
    expect(n.corrupt.map((c) => c.hash).sort()).toEqual([sha(a), sha(b)].sort());
    const inv = await n.call('/v1/inventory', { headers: { authorization: `Bearer ${await sign({ t: 'mgmt', n: 'n1', exp: exp() })}` } });
    expect(((await inv.json()) as { chunks: unknown[] }).chunks).toEqual([]);
  });
});

describe('the folder', () => {
  it('spreads chunks over two levels of 256 folders and lists them in hash order across folders', async () => {
    const n = await node();
    const hashes: string[] = [];
    for (let i = 0; i < 40; i++) {
      const body = randomBytes(64);
      hashes.push(sha(body));
      expect((await n.put(body)).status).toBe(201);
    }
    for (const h of hashes) expect(statSync(join(layout(n.dir).chunks, h.slice(0, 2), h.slice(2, 4), h)).isFile()).toBe(true);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await n.store.list(cursor ?? undefined, 7);
      seen.push(...page.chunks.map((c) => c.hash));
      cursor = page.cursor;
    } while (cursor);
    expect(seen).toEqual([...hashes].sort());
    await expect(n.store.list('../etc', 5)).rejects.toMatchObject({ code: 'bad_request' });
  });

  it('empties tmp/ and drops expired copy-order markers when it opens', async () => {
    const n = await node();
    const l = layout(n.dir);
    writeFileSync(join(l.tmp, 'leftover.part'), 'x');
    const expired = orderPath(l, `copy-${'a'.repeat(32)}`);
    const live = orderPath(l, `copy-${'b'.repeat(32)}`);
    mkdirSync(join(expired, '..'), { recursive: true });
    mkdirSync(join(live, '..'), { recursive: true });
    writeFileSync(expired, String(Date.now() - 1000));
    writeFileSync(live, String(Date.now() + 600_000));
    await openDiskStore({ dir: n.dir, capacity: null });
    expect(readdirSync(l.tmp)).toEqual([]);
    expect([existsSync(expired), existsSync(live)]).toEqual([false, true]);
    expect(await n.store.claimOnce(`copy-${'b'.repeat(32)}`, Date.now() + 1000)).toBe(false);
  });

  it('refuses a folder it cannot write, with a clear reason', async () => {
    const file = join(root, 'a-file');
    writeFileSync(file, 'x');
    await expect(openDiskStore({ dir: join(file, 'node'), capacity: null })).rejects.toMatchObject({
      code: 'bad_request', message: expect.stringMatching(/is not a writable folder \(ENOTDIR\)/),
    });
  });
});
