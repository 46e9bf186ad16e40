// Managers that move (claim 7) on the real stack: the operator moves a content's manager with the
// CLI while the CLI uploads it (direct mode, between its chunks) and again while downloads run;
// the upload commits, no download fails, and every download is byte for byte the file.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiClient } from '../../protocol/api-client.ts';
import type { ContentInfo } from '../../protocol/api.ts';
import { randomFile, sha256 } from './files.ts';
import { until } from './lifecycle-helpers.ts';
import { cli, startTestStack, type TestStack } from './local-stack.ts';

const SIZE = 48 * 1024 * 1024;
const CHUNKS = 48;

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack(3);
});

afterAll(async () => {
  await stack?.dispose();
});

/** One download, checked byte for byte; the CLI's error line when it fails. */
async function get(id: string, sha: string, n: number): Promise<string | null> {
  const out = join(stack.home, `out-${n}`);
  const r = await cli(stack, ['get', id, '-o', out]);
  if (r.code !== 0) return r.stderr.trim();
  const same = sha256(readFileSync(out)) === sha;
  rmSync(out);
  return same ? null : `download ${n}: bytes differ`;
}

describe('a manager moved under load', () => {
  it('moves during a CLI upload and during downloads: the upload commits, no download fails, the bytes are the file', async () => {
    const { path, bytes } = randomFile(stack.home, 'big.bin', SIZE);
    const sha = sha256(bytes);
    const api = createApiClient({ portal: stack.portalUrl, token: stack.token, fetch: (u, i) => fetch(u, i) });

    // The upload runs; once the manager has confirmed a chunk, the CLI is stopped (SIGSTOP, with
    // whatever it has in flight), the operator moves the manager, and the CLI goes on.
    let pid: number | undefined;
    const upload = cli(stack, ['upload', path, '--json', '--replicas', '2', '--chunk-size', String(SIZE / CHUNKS)], { onSpawn: (_k, p) => { pid = p; } });
    const stateFile = join(stack.home, 'uploads.json');
    let id: string | null = null;
    for (let i = 0; i < 2400; i++) {
      if (!id && existsSync(stateFile)) id = (Object.values(JSON.parse(readFileSync(stateFile, 'utf8'))) as { id: string }[])[0]?.id ?? null;
      if (id && (await api.session(id)).stored.length >= 1) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    expect(id).not.toBeNull();
    process.kill(pid!, 'SIGSTOP');
    let midway;
    try {
      const moved = await cli(stack, ['manager', 'move', id!, '--region', 'weur', '--json']);
      expect(moved.code, moved.stderr).toBe(0);
      expect(moved.json()).toMatchObject({ moved: true, from: id, to: `${id}.1`, region: 'weur' });
      midway = await api.session(id!);
    } finally {
      process.kill(pid!, 'SIGCONT');
    }
    const done = await upload;
    expect(done.code, done.stderr).toBe(0);
    expect(done.json().id).toBe(id);
    // The move really fell between the upload's chunks.
    expect(midway!.state).toBe('uploading');
    expect(midway!.stored.length).toBeLessThan(CHUNKS);

    const info = (await cli(stack, ['info', id!, '--json'])).json<ContentInfo>();
    expect(info.state).toBe('committed');
    expect(info.manager).toEqual({ name: `${id}.1`, region: 'weur' });
    expect(info.chunks.every((c) => c.replicas.filter((r) => r.state === 'stored').length === 2)).toBe(true);

    // Downloads run in a loop while the manager moves again; the loop goes on past the move.
    let moving = true;
    let n = 0;
    let afterMove = 0;
    const failures: string[] = [];
    const loop = (async () => {
      while (moving || afterMove < 2) {
        const after = !moving;
        const err = await get(id!, sha, n++);
        if (err) failures.push(err);
        if (after) afterMove++;
      }
    })();
    await until('a download has run', async () => n, (v) => v >= 1, 120);
    const again = await cli(stack, ['manager', 'move', id!, '--region', 'apac', '--json']);
    moving = false;
    await loop;
    expect(again.code, again.stderr).toBe(0);
    expect(again.json()).toMatchObject({ moved: true, from: `${id}.1`, to: `${id}.2`, region: 'apac' });
    expect(failures).toEqual([]);
    expect(n).toBeGreaterThanOrEqual(3);
    expect((await cli(stack, ['info', id!, '--json'])).json<ContentInfo>().manager).toEqual({ name: `${id}.2`, region: 'apac' });

    // Bad input from the CLI: a clear reason, a non-zero exit.
    const bad = await cli(stack, ['manager', 'move', id!, '--region', 'mars']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/bad_request: usage: bunsan manager move/);
  });
});
