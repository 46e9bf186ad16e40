// One node that stops answering (its workerd frozen with SIGSTOP: connections open, nothing
// comes back) must not stall the control plane: a delete answers at once with what is still
// pending, an upload's confirmation answers with what is missing, an audit of a replica there
// waits and tries again, the sweep marks the node down; and once the node answers again the
// delete and the audit finish by themselves.
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiClient } from '../../protocol/api-client.ts';
import { deriveContentKey, sealChunk, type KeyContext } from '../../protocol/chunk-crypto.ts';
import { fromBase64Url } from '../../protocol/bytes.ts';
import type { CryptoLike } from '../../protocol/crypto-like.ts';
import { sha256Hex } from '../../protocol/hash.ts';
import { putChunk } from '../../protocol/upload/put-chunk.ts';
import { webcrypto } from 'node:crypto';
import { statuses, until } from './lifecycle-helpers.ts';
import { cli, pidListeningOn, startTestStack, type TestStack } from './local-stack.ts';

const cryptoLike = webcrypto as unknown as CryptoLike;
let stack: TestStack;
let frozen: number | null = null;

const freeze = (node: string) => {
  const n = stack.nodes.find((x) => x.id === node)!;
  frozen = pidListeningOn(Number(new URL(n.url).port));
  process.kill(frozen, 'SIGSTOP');
};
const thaw = () => {
  if (frozen !== null) process.kill(frozen, 'SIGCONT');
  frozen = null;
};

async function upload(replicas: number): Promise<string> {
  const file = join(stack.home, `f-${Math.random().toString(36).slice(2)}.bin`);
  writeFileSync(file, randomBytes(600_000));
  const r = await cli(stack, ['upload', file, '--replicas', String(replicas), '--chunk-size', '65536', '--json']);
  expect(r.code, r.stderr).toBe(0);
  return r.json().id;
}

beforeAll(async () => {
  stack = await startTestStack(3, { lifecycle: { sweepSeconds: 1, downGraceSeconds: 600, orphanGraceSeconds: 600, inventorySeconds: 600 } });
});
afterAll(async () => {
  thaw();
  await stack?.dispose();
});

describe('a frozen node', () => {
  it('never stalls a delete, a confirmation or an audit, and they finish once it answers again', async () => {
    const doomed = await upload(3);
    const kept = await upload(3);
    const api = createApiClient({ portal: stack.portalUrl, token: stack.token, fetch: (u, i) => fetch(u, i) });
    // An upload whose chunks are registered (so one replica is n1's) before n1 freezes.
    const session = await api.openUpload({ name: 'late.bin', size: 65536, replicas: 3, chunking: { mode: 'regular', size: 65536 } });
    const ctx: KeyContext = { contentId: session.id, version: session.version, stampDigest: session.stampDigest };
    const key = await deriveContentKey(cryptoLike, fromBase64Url(session.secret), ctx);
    const sealed = await sealChunk(cryptoLike, key, ctx, 0, randomBytes(65536));
    const hash = await sha256Hex(cryptoLike, sealed);
    const reg = await api.register(session.id, { chunks: [{ index: 0, hash, sealedLength: sealed.length }] });
    expect(reg.chunks[0].targets.map((t) => t.node).sort()).toEqual(['n1', 'n2', 'n3']);

    freeze('n1');
    try {
      // A delete answers with what is still pending, instead of waiting on the node.
      const rm = await cli(stack, ['rm', doomed, '--json']);
      expect(rm.code, rm.stderr).toBe(0);
      expect(rm.json()).toMatchObject({ state: 'deleting', pendingNodes: ['n1'] });

      // The confirmation answers with what is missing on the frozen node.
      for (const t of reg.chunks[0].targets.filter((x) => x.node !== 'n1')) await putChunk((u, i) => fetch(u, i), t, hash, sealed);
      const confirm = await api.confirm(session.id, [hash]);
      expect(confirm.stored).toEqual([]);
      expect(confirm.missing).toEqual([{ index: 0, hash, nodes: ['n1'] }]);

      // A report about a replica there queues an audit that waits for the node.
      const chunk = (await api.manifest(kept)).chunks.find((c) => c.nodes.includes('n1'))!;
      expect((await api.report(kept, { index: chunk.index, hash: chunk.hash, node: 'n1', code: 'integrity_failed' })).recorded).toBe(true);

      // The sweep notices: the node is down, and manifests leave it out.
      await until('n1 down', () => statuses(stack), (ns) => ns.find((n) => n.id === 'n1')!.state === 'down', 90);
      expect((await api.manifest(kept)).chunks.every((c) => !c.nodes.includes('n1'))).toBe(true);
      const admin = createApiClient({ portal: stack.portalUrl, token: stack.secrets.ADMIN_TOKEN, fetch: (u, i) => fetch(u, i) });
      const audit = (await admin.reports(kept)).audits.find((a) => a.hash === chunk.hash)!;
      expect(audit.outcome).toBeNull();
    } finally {
      thaw();
    }
    // Back: the node is checked and rejoins, the delete finishes, the audit ends with the replica healthy.
    await until('n1 active again', () => statuses(stack), (ns) => ns.find((n) => n.id === 'n1')!.state === 'active', 120);
    await until('the delete finished', async () => (await cli(stack, ['ls', '--json'])).json<{ contents: { id: string }[] }>().contents.map((c) => c.id),
      (ids) => !ids.includes(doomed), 120);
    const admin = createApiClient({ portal: stack.portalUrl, token: stack.secrets.ADMIN_TOKEN, fetch: (u, i) => fetch(u, i) });
    await until('the audit finished', async () => (await admin.reports(kept)).audits[0]?.outcome ?? null, (o) => o !== null, 180);
    expect((await admin.reports(kept)).audits[0].outcome).toBe('healthy');
  }, 600_000);
});
