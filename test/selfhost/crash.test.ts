// A self-hosted node killed (SIGKILL to its process group) while uploads are under way, then
// started again on the same folder: every chunk file is whole and hashes to its name, every
// upload that was answered 201 before the kill is there, tmp/ is emptied at start, and the node
// serves what it holds. Whenever the kill lands, these must hold, so nothing here waits on timing.
import { createHash, randomBytes, webcrypto } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { CryptoLike } from '../../protocol/crypto-like.ts';
import { newContentId } from '../../protocol/ids.ts';
import { generateSigningKeyPair, importPrivateKey } from '../../protocol/signing.ts';
import { expiresIn, issueToken } from '../../protocol/tokens.ts';
import { decodeHeader, HEADER_BYTES, layout } from '../../selfhost/disk-layout.ts';
import { startNodeProcess, type NodeProcess } from './node-process-control.ts';

const cryptoLike = webcrypto as unknown as CryptoLike;
const keys = await generateSigningKeyPair(cryptoLike);
const key = await importPrivateKey(cryptoLike, keys.privateKey);
const root = mkdtempSync(join(tmpdir(), 'bunsan-crash-'));
const running: NodeProcess[] = [];

afterAll(async () => {
  await Promise.all(running.map((p) => p.kill()));
  rmSync(root, { recursive: true, force: true });
});

async function start(dir: string): Promise<NodeProcess> {
  const p = await startNodeProcess({ NODE_DIR: dir, NODE_ID: 'n1', SIGNING_PUBLIC_KEY: keys.publicKey });
  running.push(p);
  return p;
}

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const content = newContentId(cryptoLike);
const stamp = sha(Buffer.from('stamp'));

async function put(url: string, body: Uint8Array | ReadableStream<Uint8Array>, hash: string): Promise<Response> {
  const token = await issueToken(cryptoLike, key, { t: 'put', c: content, v: 1, n: 'n1', h: hash, s: stamp, exp: expiresIn(Date.now(), 600) });
  return fetch(`${url}/v1/chunks/${hash}`, { method: 'PUT', headers: { authorization: `Bearer ${token}` }, body, duplex: 'half' } as RequestInit);
}

/** Every chunk file in the folder, read straight from disk: each must be whole and hash to its name. */
function chunkFiles(dir: string): string[] {
  const l = layout(dir);
  const names: string[] = [];
  for (const a of readdirSync(l.chunks)) {
    for (const b of readdirSync(join(l.chunks, a))) {
      for (const name of readdirSync(join(l.chunks, a, b))) {
        const file = readFileSync(join(l.chunks, a, b, name));
        const header = decodeHeader(file.subarray(0, HEADER_BYTES));
        expect(header, name).not.toBeNull();
        expect(header!.size, name).toBe(file.length - HEADER_BYTES);
        expect(sha(file.subarray(HEADER_BYTES)), name).toBe(name);
        expect(header!.meta).toEqual({ content, stamp, version: '1' });
        names.push(name);
      }
    }
  }
  return names;
}

describe('a self-hosted node killed during uploads', () => {
  it('leaves no chunk or the whole chunk, keeps every acknowledged one, and sweeps leftovers at start', async () => {
    const dir = join(root, 'node');
    let node = await start(dir);
    const acknowledged = new Set<string>();
    for (let round = 0; round < 3; round++) {
      const bodies = Array.from({ length: 10 }, () => randomBytes(2 * 1024 * 1024 + round));
      let first: () => void;
      const firstDone = new Promise<void>((r) => { first = r; });
      const puts = bodies.map(async (b) => {
        const hash = sha(b);
        const res = await put(node.url, b, hash).catch(() => null);
        if (res?.status === 201) {
          acknowledged.add(hash);
          first();
        }
      });
      // also one upload whose body stops half way: the node is reading it when it dies
      const half = randomBytes(1024 * 1024);
      const stalled = put(node.url, new ReadableStream({ start(c) { c.enqueue(half.subarray(0, 512 * 1024)); } }), sha(half)).catch(() => null);
      await Promise.race([firstDone, Promise.all(puts)]);
      await node.kill('SIGKILL');
      await Promise.all([...puts, stalled]);

      // Before any restart: what is in chunks/ is whole.
      const before = chunkFiles(dir);
      expect(before).not.toContain(sha(half));
      for (const h of acknowledged) expect(before).toContain(h);

      // a write that never finished, whatever the kill above left: gone once the node starts
      writeFileSync(join(layout(dir).tmp, `${sha(half)}.unfinished`), half.subarray(0, 1000));
      node = await start(dir);
      expect(readdirSync(layout(dir).tmp)).toEqual([]);
      const after = chunkFiles(dir);
      expect(after.sort()).toEqual(before.sort());
      // and it serves them
      const get = await issueToken(cryptoLike, key, { t: 'get', c: content, exp: expiresIn(Date.now(), 600) });
      for (const h of after) {
        const res = await fetch(`${node.url}/v1/chunks/${h}`, { headers: { authorization: `Bearer ${get}` } });
        expect(res.status).toBe(200);
        expect(sha(new Uint8Array(await res.arrayBuffer()))).toBe(h);
      }
    }
    expect(acknowledged.size).toBeGreaterThan(0);
    await node.kill('SIGTERM');
    expect(existsSync(join(dir, 'chunks'))).toBe(true);
  });
});
