// Interrupted uploads resume: running the same command again sends only what is missing, in
// both modes, and the result is byte-exact with no stray replicas left at the nodes.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiClient } from '../../protocol/api-client.ts';
import { cli, nodeInventory, startTestStack, type TestStack } from './local-stack.ts';
import { randomFile, sha256 } from './files.ts';

const SIZE = 48 * 1024 * 1024;
const CHUNKS = 48;

describe('resumable uploads', () => {
  let stack: TestStack;
  let dir: string;
  beforeAll(async () => {
    stack = await startTestStack(3);
    dir = mkdtempSync(join(tmpdir(), 'bunsan-resume-'));
  });
  afterAll(async () => {
    await stack?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Starts an upload, kills the CLI once the manager has confirmed at least `atLeast` chunks. */
  async function interrupted(path: string, args: string[], atLeast: number): Promise<string> {
    const api = createApiClient({ portal: stack.portalUrl, token: stack.token, fetch: (u, i) => fetch(u, i) });
    let kill: () => void = () => {};
    const run = cli(stack, ['upload', path, '--json', ...args], { onSpawn: (k) => { kill = k; } });
    const stateFile = join(stack.home, 'uploads.json');
    let id: string | null = null;
    for (let i = 0; i < 600; i++) {
      if (!id && existsSync(stateFile)) {
        const entries = Object.values(JSON.parse(readFileSync(stateFile, 'utf8'))) as { id: string }[];
        id = entries[0]?.id ?? null;
      }
      if (id && (await api.session(id)).stored.length >= atLeast) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    kill();
    const r = await run;
    expect(r.code).not.toBe(0); // it really was cut short
    expect(id).not.toBeNull();
    return id!;
  }

  for (const mode of ['direct', 'gateway'] as const) {
    it(`${mode}: a second run after a kill sends only the missing chunks`, async () => {
      const f = randomFile(dir, `${mode}.bin`, SIZE);
      const args = mode === 'gateway' ? ['--gateway'] : [];
      const id = await interrupted(f.path, args, 6);
      const again = await cli(stack, ['upload', f.path, '--json', ...args]);
      expect(again.code, again.stderr).toBe(0);
      const r = again.json();
      expect(r.id).toBe(id);
      expect(r.skippedChunks).toBeGreaterThanOrEqual(6);
      expect(r.sentChunks + r.skippedChunks).toBe(CHUNKS);
      expect(r.sentChunks).toBeLessThan(CHUNKS);
      const get = await cli(stack, ['get', id]);
      expect(get.code, get.stderr).toBe(0);
      expect(sha256(get.stdout)).toBe(sha256(f.bytes));
      // Exactly two replicas of each committed chunk remain; anything sealed before the kill
      // and never confirmed was collected at commit.
      let held = 0;
      for (const n of stack.nodes) held += (await nodeInventory(stack, n.id)).filter((c) => c.content === id).length;
      expect(held).toBe(CHUNKS * 2);
    });
  }
});
