// One node of the real stack serves a corrupted chunk: the bytes in its R2 bucket are changed
// behind its back (the node stopped, its persisted bucket opened with Miniflare, one byte of
// the stored ciphertext flipped, metadata kept, the node started again). `bunsan get`, told to
// prefer that node so it is asked first, still writes the exact file, and the portal has a
// chunk-report event naming the chunk and the node. The content's manager then audits that
// replica on its own and replaces it, so the next download gets every chunk right first time.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Miniflare } from 'miniflare';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiClient } from '../../protocol/api-client.ts';
import { COMPATIBILITY_DATE, type LocalNode } from '../../scripts/stack/stack.ts';
import { randomFile, sha256 } from './files.ts';
import { cli, startTestStack, type TestStack } from './local-stack.ts';

const CS = 64 * 1024;

/** Flips one byte of a stored chunk in a stopped node's persisted R2 bucket, keeping its metadata. */
async function corruptStoredChunk(node: LocalNode, hash: string): Promise<void> {
  if (node.running) throw new Error('stop the node first: its bucket is on disk, not shared');
  const mf = new Miniflare({
    modules: true, script: 'export default { fetch() { return new Response(null, { status: 404 }); } }',
    compatibilityDate: COMPATIBILITY_DATE, r2Buckets: { BUCKET: `bunsan-chunks-${node.id}` }, r2Persist: join(node.dataDir, 'r2'),
  });
  try {
    const bucket = await mf.getR2Bucket('BUCKET');
    const key = `chunks/${hash}`;
    const obj = await bucket.get(key);
    if (!obj) throw new Error(`${node.id} holds no ${key}`);
    const bytes = new Uint8Array(await obj.arrayBuffer());
    bytes[bytes.length >> 1] ^= 0x40;
    await bucket.put(key, bytes, { customMetadata: obj.customMetadata, httpMetadata: obj.httpMetadata });
  } finally {
    await mf.dispose();
  }
}

describe('a node serving a corrupted chunk', () => {
  let stack: TestStack;
  let dir: string;

  beforeAll(async () => {
    stack = await startTestStack(3);
    dir = mkdtempSync(join(tmpdir(), 'bunsan-corrupt-'));
  });
  afterAll(async () => {
    await stack?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('does not stop get from writing the exact file, and the portal logs a report', async () => {
    const f = randomFile(dir, 'item.bin', 6 * CS + 123);
    const up = await cli(stack, ['upload', f.path, '--json', '--chunk-size', String(CS)]);
    expect(up.code, up.stderr).toBe(0);
    const { id } = up.json();
    const info = (await cli(stack, ['info', id, '--json'])).json();
    const chunk = info.chunks[2];
    const bad: LocalNode = stack.nodes.find((n) => n.id === chunk.replicas[0].node)!;

    await bad.stop();
    await corruptStoredChunk(bad, chunk.hash);
    await bad.start();

    // Preferred, the bad node is asked first unless its probe came out more than twice as slow
    // as the other replica's (a loaded machine): then the next run, with history, asks it.
    const out = join(dir, 'item.out');
    let summary: { reports: number; failures: number } = { reports: 0, failures: 0 };
    for (let attempt = 0; attempt < 4 && summary.reports === 0; attempt++) {
      const get = await cli(stack, ['get', id, '-o', out, '--json', '--prefer', bad.id]);
      expect(get.code, get.stderr).toBe(0);
      expect(sha256(readFileSync(out))).toBe(sha256(f.bytes));
      summary = get.json();
    }
    expect(summary.reports, JSON.stringify(summary)).toBe(1);
    expect(summary.failures).toBeGreaterThanOrEqual(1);

    const admin = createApiClient({ portal: stack.portalUrl, token: stack.secrets.ADMIN_TOKEN, fetch: (u, i) => fetch(u, i) });
    const { reports } = await admin.reports(id);
    expect(reports).toEqual([{ at: expect.any(Number), index: 2, hash: chunk.hash, node: bad.id, code: 'integrity_failed' }]);

    // the node history the CLI keeps remembers the nodes it measured
    const history = JSON.parse(readFileSync(join(stack.home, 'node-history.json'), 'utf8'));
    expect(Object.keys(history.nodes)).toContain(bad.publicUrl);

    // the manager's alarm audits the reported replica and puts a verified copy in its place
    let audits = (await admin.reports(id)).audits;
    for (let i = 0; i < 100 && !audits[0]?.outcome; i++) {
      await new Promise((r) => setTimeout(r, 100));
      audits = (await admin.reports(id)).audits;
    }
    expect(audits).toEqual([expect.objectContaining({ index: 2, hash: chunk.hash, node: bad.id, outcome: 'repaired', target: bad.id })]);
    const again = await cli(stack, ['get', id, '-o', join(dir, 'again.out'), '--json', '--prefer', bad.id]);
    expect(again.code, again.stderr).toBe(0);
    expect(sha256(readFileSync(join(dir, 'again.out')))).toBe(sha256(f.bytes));
    expect(again.json()).toMatchObject({ reports: 0 });
  });
});
