// Drains on the real stack: a node drained while viewers download keeps every download whole and
// ends empty and retired, every chunk at its replica count on the others; and a node that dies
// in the middle of receiving a move costs nothing — the move completes elsewhere. Copies are
// throttled by the nodes' gates here, so that a drain lasts long enough to be interrupted.
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { holders, statuses, until } from './lifecycle-helpers.ts';
import { cli, nodeInventory, startTestStack, type TestStack } from './local-stack.ts';

const LIFECYCLE = { sweepSeconds: 1, downGraceSeconds: 4, orphanGraceSeconds: 60, inventorySeconds: 600, movesPerNode: 2, moveBytesPerSecond: 768 * 1024 };
const CHUNK = 64 * 1024;

let stack: TestStack;
const items: { id: string; sha: string }[] = [];



/** One download, checked byte for byte; returns the CLI's error line when it fails. */
async function get(id: string, sha: string): Promise<string | null> {
  const out = join(stack.home, `out-${id}-${Math.random().toString(36).slice(2)}`);
  const r = await cli(stack, ['get', id, '-o', out]);
  if (r.code !== 0) return r.stderr.trim();
  const ok = createHash('sha256').update(readFileSync(out)).digest('hex') === sha;
  rmSync(out);
  return ok ? null : `${id}: bytes differ`;
}

beforeAll(async () => {
  stack = await startTestStack(5, { lifecycle: LIFECYCLE });
  for (const size of [3 * 1024 * 1024, 2 * 1024 * 1024 + 77]) {
    const file = join(stack.home, `item-${size}.bin`);
    const bytes = randomBytes(size);
    writeFileSync(file, bytes);
    const r = await cli(stack, ['upload', file, '--replicas', '2', '--chunk-size', String(CHUNK), '--json']);
    expect(r.code, r.stderr).toBe(0);
    items.push({ id: r.json().id, sha: createHash('sha256').update(bytes).digest('hex') });
  }
});

afterAll(async () => {
  await stack?.dispose();
});

describe('drains on the real stack', () => {
  it('drains a node while downloads run: none fails, the node ends empty and retired, every chunk keeps 2 copies', async () => {
    const start = Date.now();
    const r = await cli(stack, ['nodes', 'drain', 'n1']);
    expect(r.code, r.stderr).toBe(0);
    let draining = true;
    const failures: string[] = [];
    let downloads = 0;
    const loop = (async () => {
      while (draining) {
        for (const it of items) {
          const err = await get(it.id, it.sha);
          downloads++;
          if (err) failures.push(err);
        }
      }
    })();
    try {
      await until('n1 retired', () => statuses(stack), (ns) => ns.find((n) => n.id === 'n1')!.state === 'retired');
    } finally {
      draining = false;
      await loop;
    }
    console.log(`drain of n1: ${((Date.now() - start) / 1000).toFixed(1)} s, ${downloads} downloads during it`);
    expect(failures).toEqual([]);
    expect(downloads).toBeGreaterThan(1);
    expect(await nodeInventory(stack, 'n1')).toEqual([]);
    for (const it of items) for (const h of await holders(stack, it.id)) expect(h.length === 2 && !h.includes('n1'), h.join(',')).toBe(true);
  });

  it('loses nothing when the node receiving a move dies in the middle of it: the move completes elsewhere', async () => {
    const db = await stack.registry();
    const since = Date.now();
    const r = await cli(stack, ['nodes', 'drain', 'n2']);
    expect(r.code, r.stderr).toBe(0);
    // The first node a copy lands on is killed at once, with the drain under way.
    const first = await until('a copy off n2', async () => (await db.prepare(
      "SELECT node_id FROM events WHERE kind = 'replica-copied' AND at >= ? ORDER BY id LIMIT 1",
    ).bind(since).first<{ node_id: string }>())?.node_id, (n) => !!n, 60);
    const target = stack.nodes.find((n) => n.id === first)!;
    await target.stop();
    const mid = await statuses(stack);
    expect(mid.find((n) => n.id === 'n2')!.state).toBe('draining');

    await until('n2 retired', () => statuses(stack), (ns) => ns.find((n) => n.id === 'n2')!.state === 'retired');
    expect(await nodeInventory(stack, 'n2')).toEqual([]);
    // Copies the dead node had received count until its grace period ends, then are made again.
    for (const it of items) {
      await until(`${it.id} at 2 copies on live nodes`, () => holders(stack, it.id),
        (hs) => hs.every((h) => h.length === 2 && !h.includes('n2') && !h.includes(target.id)));
      expect(await get(it.id, it.sha)).toBeNull();
    }
  });
});
