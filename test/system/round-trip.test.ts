// The foundation end to end on the real local stack, through the real CLI: byte-exact round
// trips in both upload modes, placement over every node, ciphertext only at the nodes, a
// stopped node, and a delete that leaves nothing behind.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, nodeInventory, startTestStack, type TestStack } from './local-stack.ts';
import { filesUnder, findAny, randomFile, samples, sha256 } from './files.ts';

const CS = 64 * 1024;
const BIG = 64 * 1024 * 1024;

describe('upload, get, rm through the CLI', () => {
  let stack: TestStack;
  let dir: string;
  const big: Record<string, { id: string; bytes: Buffer }> = {};

  beforeAll(async () => {
    stack = await startTestStack(3);
    dir = mkdtempSync(join(tmpdir(), 'bunsan-files-'));
  });
  afterAll(async () => {
    await stack?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  async function roundTrip(mode: 'direct' | 'gateway', size: number, extra: string[] = []) {
    const f = randomFile(dir, `${mode}-${size}.bin`, size);
    const up = await cli(stack, ['upload', f.path, '--json', ...extra, ...(mode === 'gateway' ? ['--gateway'] : [])]);
    expect(up.stderr).toBe('');
    expect(up.code).toBe(0);
    const { id, seconds } = up.json();
    const out = join(dir, `${mode}-${size}.out`);
    const started = Date.now();
    const get = await cli(stack, ['get', id, '-o', out, '--json']);
    expect(get.code, get.stderr).toBe(0);
    const got = readFileSync(out);
    expect(got.length).toBe(size);
    expect(sha256(got)).toBe(sha256(f.bytes));
    return { id, bytes: f.bytes, uploadSeconds: seconds as number, getSeconds: (Date.now() - started) / 1000 };
  }

  for (const mode of ['direct', 'gateway'] as const) {
    for (const size of [0, 1, CS - 1, CS, CS + 1]) {
      it(`${mode}: ${size} bytes round-trip byte-exact`, async () => {
        await roundTrip(mode, size, ['--chunk-size', String(CS)]);
      });
    }
    it(`${mode}: 64 MiB round-trip byte-exact`, async () => {
      const r = await roundTrip(mode, BIG);
      big[mode] = r;
      const mbps = (s: number) => (BIG / 1024 / 1024 / s).toFixed(1);
      console.log(`64 MiB ${mode}: upload ${r.uploadSeconds.toFixed(2)} s (${mbps(r.uploadSeconds)} MiB/s), get ${r.getSeconds.toFixed(2)} s (${mbps(r.getSeconds)} MiB/s)`);
    });
  }

  it('irregular splitting round-trips and cuts chunks of varied lengths', async () => {
    const r = await roundTrip('direct', 3 * 1024 * 1024 + 17, ['--irregular', '--chunk-size', String(CS * 2)]);
    const info = (await cli(stack, ['info', r.id, '--json'])).json();
    const lengths = new Set(info.chunks.slice(0, -1).map((c: { length: number }) => c.length));
    expect(lengths.size).toBeGreaterThan(5);
  });

  it('puts every chunk on two distinct nodes and uses every node', async () => {
    const info = (await cli(stack, ['info', big.direct.id, '--json'])).json();
    expect(info.chunks.length).toBe(64);
    const perNode = new Map<string, number>();
    for (const ch of info.chunks) {
      const stored = ch.replicas.filter((r: { state: string }) => r.state === 'stored').map((r: { node: string }) => r.node);
      expect(new Set(stored).size).toBe(2);
      for (const n of stored) perNode.set(n, (perNode.get(n) ?? 0) + 1);
    }
    expect([...perNode.keys()].sort()).toEqual(['n1', 'n2', 'n3']);
    for (const n of perNode.values()) expect(n).toBeGreaterThan(20); // 128 replicas over 3 nodes
    // The nodes agree with the manager: each holds exactly what the placement says.
    for (const node of stack.nodes) {
      const held = new Set((await nodeInventory(stack, node.id)).map((c) => c.hash));
      for (const ch of info.chunks) {
        const placed = ch.replicas.some((r: { node: string }) => r.node === node.id);
        expect(held.has(ch.hash)).toBe(placed);
      }
    }
  });

  it('stores no plaintext byte sequence at any node', () => {
    const files = stack.nodes.flatMap((n) => filesUnder(n.dataDir));
    expect(files.length).toBeGreaterThan(0);
    for (const mode of ['direct', 'gateway']) {
      expect(findAny(files, samples(big[mode].bytes, 48))).toBeNull();
    }
  });

  it('downloads with a node stopped, from the other replicas', async () => {
    await stack.nodes[1].stop();
    try {
      const out = join(dir, 'without-n2.out');
      const get = await cli(stack, ['get', big.direct.id, '-o', out, '--json']);
      expect(get.code, get.stderr).toBe(0);
      expect(sha256(readFileSync(out))).toBe(sha256(big.direct.bytes));
      expect(get.json().chunksByNode.n2).toBeUndefined();
    } finally {
      await stack.nodes[1].start();
    }
  });

  it('rm deletes every replica on every node, then the catalog entry', async () => {
    const { id } = big.gateway;
    const info = (await cli(stack, ['info', id, '--json'])).json();
    const hashes = new Set<string>(info.chunks.map((c: { hash: string }) => c.hash));
    const rm = await cli(stack, ['rm', id, '--json']);
    expect(rm.code, rm.stderr).toBe(0);
    expect(rm.json().state).toBe('deleted');
    for (const node of stack.nodes) {
      const left = (await nodeInventory(stack, node.id)).filter((c) => hashes.has(c.hash) || c.content === id);
      expect(left).toEqual([]);
    }
    const ls = (await cli(stack, ['ls', '--json'])).json();
    expect(ls.contents.map((c: { id: string }) => c.id)).not.toContain(id);
    const get = await cli(stack, ['get', id]);
    expect(get.code).not.toBe(0);
    expect(get.stderr.trim().split('\n')).toHaveLength(1);
    expect(get.stderr).toContain('content_not_found');
    // The other item is untouched.
    const still = await cli(stack, ['get', big.direct.id]);
    expect(sha256(still.stdout)).toBe(sha256(big.direct.bytes));
  });
});
