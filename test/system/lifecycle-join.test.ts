// The node lifecycle on the real stack (workerd, R2, D1, Durable Objects; nodes are processes):
// a fifth node brought in by restarting the stack with one more node receives about its share
// and nothing else moves; a chunk put straight into a node, wanted by nobody, disappears after
// its grace period; registry rows deleted are rebuilt from the nodes and the managers; a node
// whose process stops for good is repaired around once its grace period is over.
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Hex } from '../../protocol/hash.ts';
import { newContentId } from '../../protocol/ids.ts';
import { importPrivateKey } from '../../protocol/signing.ts';
import { expiresIn, issueToken } from '../../protocol/tokens.ts';
import { webcrypto } from 'node:crypto';
import type { CryptoLike } from '../../protocol/crypto-like.ts';
import { holders, statuses, until } from './lifecycle-helpers.ts';
import { cli, freePorts, nodeInventory, startTestStack, type TestStack } from './local-stack.ts';

const cryptoLike = webcrypto as unknown as CryptoLike;
const LIFECYCLE = { sweepSeconds: 1, downGraceSeconds: 4, orphanGraceSeconds: 2, inventorySeconds: 2 };
const CHUNK = 64 * 1024;

let stack: TestStack;
let home: string;
let port: number;
const items: { id: string; file: string; sha: string }[] = [];



async function get(id: string, sha: string): Promise<void> {
  const out = join(home, `out-${id}`);
  const r = await cli(stack, ['get', id, '-o', out]);
  expect(r.code, r.stderr).toBe(0);
  expect(createHash('sha256').update(readFileSync(out)).digest('hex')).toBe(sha);
  rmSync(out);
}

beforeAll(async () => {
  port = await freePorts(6);
  stack = await startTestStack(4, { port, lifecycle: LIFECYCLE });
  home = stack.home;
  for (const size of [3 * 1024 * 1024 + 5, 2 * 1024 * 1024]) {
    const file = join(home, `item-${size}.bin`);
    const bytes = randomBytes(size);
    writeFileSync(file, bytes);
    const r = await cli(stack, ['upload', file, '--replicas', '2', '--chunk-size', String(CHUNK), '--json']);
    expect(r.code, r.stderr).toBe(0);
    items.push({ id: r.json().id, file, sha: createHash('sha256').update(bytes).digest('hex') });
  }
});

afterAll(async () => {
  await stack?.dispose();
});

describe('the node lifecycle on the real stack', () => {
  it('brings a fifth node in through the join path: it receives about its share, and nothing else moves', async () => {
    const before = new Map(await Promise.all(items.map(async (it) => [it.id, await holders(stack, it.id)] as const)));
    const copies = [...before.values()].flat(2).length;
    // Restarted over the same state with one node more, as `BUNSAN_NODES=5 npm start` does.
    await stack.stop();
    stack = await startTestStack(5, { home, port, lifecycle: LIFECYCLE });
    const joined = await until('n5 active', () => statuses(stack), (ns) => ns.find((n) => n.id === 'n5')?.state === 'active');
    expect(joined.find((n) => n.id === 'n5')!.stateReason).toMatch(/share/);
    // Surplus copies on the old nodes are deleted after the new copies are verified.
    await until('no backlog', () => statuses(stack), (ns) => ns.every((n) => n.backlog.copiesIn + n.backlog.copiesOut + n.backlog.deletes === 0));

    let moved = 0;
    let total = 0;
    for (const it of items) {
      const after = await holders(stack, it.id);
      before.get(it.id)!.forEach((was, i) => {
        const now = after[i];
        expect(now).toHaveLength(2);
        // Every new holder is the new node; every other copy stayed where it was.
        for (const n of now) if (!was.includes(n)) expect(n).toBe('n5');
        if (now.includes('n5')) moved++;
        total += now.length;
      });
      await get(it.id, it.sha);
    }
    const optimal = total / 5;
    const ratio = moved / optimal;
    console.log(`fifth node: ${moved} copies moved to it, optimum ${optimal.toFixed(1)} (1/5 of ${total}): ${ratio.toFixed(2)}x`);
    expect(copies).toBe(total);
    expect(ratio).toBeGreaterThan(0.6);
    expect(ratio).toBeLessThan(1.4);
  });

  it('deletes a chunk put straight into a node that no content wants, after its grace period', async () => {
    const node = stack.nodes[0];
    const bytes = randomBytes(5000);
    const hash = await sha256Hex(cryptoLike, bytes);
    const key = await importPrivateKey(cryptoLike, stack.secrets.SIGNING_KEY);
    const token = await issueToken(cryptoLike, key, {
      t: 'put', c: newContentId(cryptoLike), v: 1, n: node.id, h: hash, s: await sha256Hex(cryptoLike, randomBytes(8)), exp: expiresIn(Date.now(), 600),
    });
    const put = await fetch(`${node.url}/v1/chunks/${hash}`, { method: 'PUT', headers: { authorization: `Bearer ${token}` }, body: bytes });
    expect(put.status).toBe(201);
    expect((await nodeInventory(stack, node.id)).some((c) => c.hash === hash)).toBe(true);
    await until('orphan deleted', () => nodeInventory(stack, node.id), (inv) => !inv.some((c) => c.hash === hash));
    // The content's chunks are all still there.
    for (const it of items) await get(it.id, it.sha);
  });

  it('rebuilds lost registry rows from the nodes and the managers', async () => {
    const db = await stack.registry();
    const count = async () => (await db.prepare('SELECT (SELECT COUNT(*) FROM contents) AS c, (SELECT COUNT(*) FROM placements) AS p').first<{ c: number; p: number }>())!;
    const was = await count();
    await db.batch([db.prepare('DELETE FROM placements'), db.prepare('DELETE FROM contents')]);
    expect(await count()).toEqual({ c: 0, p: 0 });
    expect((await cli(stack, ['ls', '--json'])).json().contents).toEqual([]);
    const r = await cli(stack, ['registry', 'rebuild']);
    expect(r.code, r.stderr).toBe(0);
    await until('registry rebuilt', count, (n) => n.c === was.c && n.p === was.p);
    const listed = (await cli(stack, ['ls', '--json'])).json<{ contents: { id: string }[] }>().contents.map((c) => c.id);
    for (const it of items) {
      expect(listed).toContain(it.id);
      await get(it.id, it.sha);
    }
  });

  it('repairs around a node whose process stops for good, once its grace period is over', async () => {
    const dead = stack.nodes.find((n) => n.id === 'n5')!;
    await dead.stop();
    await until('n5 down', () => statuses(stack), (ns) => ns.find((n) => n.id === 'n5')!.state === 'down');
    for (const it of items) {
      await until(`${it.id} back at 2 copies`, () => holders(stack, it.id), (hs) => hs.every((h) => h.length === 2 && !h.includes('n5')));
      await get(it.id, it.sha);
    }
    const lost = (await statuses(stack)).find((n) => n.id === 'n5')!;
    expect(lost.state).toBe('down');
    expect(lost.stateReason).toMatch(/health checks/);
  });
});
