// Wandering placement on the real stack: a content uploaded with --wander keeps moving its
// chunks to other nodes, copy-then-delete, while the CLI downloads it in a loop; no download
// fails and every one is byte-identical. The test waits until the placement has really changed
// (every original holder of several chunks has lost them), never for a fixed time. Bad periods
// are refused with a clear error, by the CLI and by the API.
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ContentInfo } from '../../protocol/api.ts';
import { holders, until } from './lifecycle-helpers.ts';
import { cli, startTestStack, type TestStack } from './local-stack.ts';

const CHUNK = 64 * 1024;
let stack: TestStack;

async function upload(name: string, size: number, extra: string[]): Promise<{ id: string; sha: string; file: string }> {
  const file = join(stack.home, name);
  const bytes = randomBytes(size);
  writeFileSync(file, bytes);
  const r = await cli(stack, ['upload', file, '--replicas', '2', '--chunk-size', String(CHUNK), '--json', ...extra]);
  expect(r.code, r.stderr).toBe(0);
  return { id: r.json().id, sha: createHash('sha256').update(bytes).digest('hex'), file };
}

/** One download, checked byte for byte; returns the CLI's error line when it fails, and the manifests it asked again. */
async function get(id: string, sha: string): Promise<{ error: string | null; refreshes: number }> {
  const out = join(stack.home, `out-${id}-${Math.random().toString(36).slice(2)}`);
  const r = await cli(stack, ['get', id, '-o', out, '--json']);
  if (r.code !== 0) return { error: r.stderr.trim(), refreshes: 0 };
  const ok = createHash('sha256').update(readFileSync(out)).digest('hex') === sha;
  rmSync(out);
  return { error: ok ? null : `${id}: bytes differ`, refreshes: r.json().refreshes };
}

beforeAll(async () => {
  stack = await startTestStack(5);
});

afterAll(async () => {
  await stack?.dispose();
});

describe('wandering placement on the real stack', () => {
  it('moves every chunk away from its first holders over time while downloads run, none failing', async () => {
    const item = await upload('wander.bin', 40 * CHUNK + 123, ['--wander', '60s']);
    const info = (await cli(stack, ['info', item.id, '--json'])).json<ContentInfo>();
    expect(info.wanderSeconds).toBe(60);
    expect((await cli(stack, ['info', item.id])).stdout.toString()).toContain('wanders every 1m');
    const first = await holders(stack, item.id);
    expect(first.every((h) => h.length === 2)).toBe(true);

    const start = Date.now();
    let running = true;
    const failures: string[] = [];
    let downloads = 0;
    let refreshes = 0;
    const loop = (async () => {
      while (running) {
        const r = await get(item.id, item.sha);
        downloads++;
        refreshes += r.refreshes;
        if (r.error) failures.push(r.error);
      }
    })();
    // Gone from both first holders: that chunk's whole placement is new.
    const movedAway = (now: string[][]) => now.filter((h, i) => h.length >= 2 && !h.some((n) => first[i].includes(n))).length;
    let last: string[][] = first;
    try {
      last = await until('eight chunks moved off all their first holders', () => holders(stack, item.id), (now) => movedAway(now) >= 8, 240);
    } finally {
      running = false;
      await loop;
    }
    console.log(`wander: ${movedAway(last)} of ${first.length} chunks moved away in ${((Date.now() - start) / 1000).toFixed(1)} s; ${downloads} downloads, ${refreshes} fresh manifests asked`);
    expect(failures).toEqual([]);
    expect(downloads).toBeGreaterThan(1);
    // Once the moves are done, every chunk is back to exactly two verified copies.
    await until('every chunk at 2 copies', () => holders(stack, item.id), (hs) => hs.every((h) => h.length === 2), 120);
    // The moves are in the registry's events, told as wandering.
    const db = await stack.registry();
    const kinds = (await db.prepare(
      "SELECT kind, json_extract(detail, '$.reason') AS reason, json_extract(detail, '$.why') AS why FROM events WHERE content_id = ? AND kind IN ('replica-copied', 'replica-deleted')",
    ).bind(item.id).all<{ kind: string; reason: string | null; why: string | null }>()).results;
    expect(kinds.filter((k) => k.kind === 'replica-copied' && k.reason === 'wander').length).toBeGreaterThanOrEqual(16);
    expect(kinds.filter((k) => k.kind === 'replica-deleted' && k.why === 'wander').length).toBeGreaterThanOrEqual(16);
    expect((await get(item.id, item.sha)).error).toBeNull();
  }, 400_000);

  it('takes the period in gateway mode too', async () => {
    const item = await upload('wander-gw.bin', 3 * CHUNK, ['--gateway', '--wander', '2h']);
    expect((await cli(stack, ['info', item.id, '--json'])).json<ContentInfo>().wanderSeconds).toBe(7200);
    expect((await get(item.id, item.sha)).error).toBeNull();
  });

  it('refuses bad periods with a clear error, in the CLI and in the API', async () => {
    const file = join(stack.home, 'bad.bin');
    writeFileSync(file, randomBytes(1000));
    for (const [flag, says] of [['10s', /between 1m and 365d/], ['400d', /between 1m and 365d/], ['soon', /like 90s, 15m/], ['-5', /like 90s, 15m/]] as const) {
      const r = await cli(stack, ['upload', file, `--wander=${flag}`]);
      expect(r.code, flag).not.toBe(0);
      expect(r.stderr, flag).toMatch(says);
    }
    const r = await cli(stack, ['upload', file, '--wander', '5m', '--placement', 'random']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/cannot go with --placement random/);
    for (const [wanderSeconds, says] of [[5, /at least 60/], [10 ** 9, /at most/], [90.5, /int/i]] as const) {
      const res = await fetch(`${stack.portalUrl}/api/v1/uploads`, {
        method: 'POST', headers: { authorization: `Bearer ${stack.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'x.bin', size: 10, wanderSeconds }),
      });
      expect(res.status, String(wanderSeconds)).toBe(400);
      expect(JSON.stringify(await res.json())).toMatch(says);
    }
    // Nothing was opened by the refusals.
    expect((await cli(stack, ['ls', '--json'])).json().contents.map((c: { name: string }) => c.name)).not.toContain('bad.bin');
  });
});
