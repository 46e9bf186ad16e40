// The manager acts on chunk reports: it reads the reported replica itself, and a copy that does
// not verify is replaced by a verified one from another replica, confirmed by the node, and
// recorded: on the same node, or on another when that node no longer takes copies. A healthy
// replica, or one that cannot be repaired, is left exactly as it was.
import { env, runDurableObjectAlarm } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ChunkReportList } from '../../protocol/api.ts';
import { sha256Hex } from '../../protocol/hash.ts';
import type { Manifest } from '../../protocol/manifest.ts';
import { ADMIN_TOKEN, bearerOf, cryptoLike, down, JSON_CT, LIVE, newProvider, portalCall, randomBytes, registerNode, routeNodes, uploadBytes } from './edge-stack.ts';

const CS = 65536;
let owner = '';
const stub = (id: string) => env.MANAGER.get(env.MANAGER.idFromName(id));

const manifest = async (id: string) => (await (await portalCall(`/api/v1/contents/${id}/manifest`)).json()) as Manifest;
const report = (id: string, body: { index: number; hash: string; node: string; code: string }) =>
  portalCall(`/api/v1/contents/${id}/reports`, { method: 'POST', headers: JSON_CT, body: JSON.stringify(body) });
const reports = async (id: string) =>
  (await (await portalCall(`/api/v1/contents/${id}/reports`, { headers: bearerOf(ADMIN_TOKEN) })).json()) as ChunkReportList;

/** Runs the manager's alarm until the audit of (hash, node) has an outcome. */
async function auditOutcome(id: string, hash: string, node: string) {
  for (let i = 0; i < 50; i++) {
    await runDurableObjectAlarm(stub(id));
    const a = (await reports(id)).audits.find((x) => x.hash === hash && x.node === node);
    if (a?.outcome) return a;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`no outcome for ${hash} on ${node}`);
}

/** Changes one byte of a stored chunk behind the node's back, keeping its metadata. */
async function corrupt(node: keyof typeof LIVE, hash: string): Promise<void> {
  const obj = (await LIVE[node].get(`chunks/${hash}`))!;
  const bytes = new Uint8Array(await obj.arrayBuffer());
  bytes[bytes.length >> 1] ^= 0x40;
  await LIVE[node].put(`chunks/${hash}`, bytes, { customMetadata: obj.customMetadata });
}
const stored = async (node: keyof typeof LIVE, hash: string) => {
  const obj = await LIVE[node].get(`chunks/${hash}`);
  return obj ? sha256Hex(cryptoLike, new Uint8Array(await obj.arrayBuffer())) : null;
};

beforeAll(async () => {
  routeNodes();
  await registerNode('n1');
  await registerNode('n2');
  owner = await newProvider();
});

describe('a reported replica', () => {
  it('that does not verify is replaced on its node by a verified copy, and the manifest keeps both replicas', async () => {
    const id = await uploadBytes(owner, randomBytes(3 * CS), { replicas: 2 });
    const chunk = (await manifest(id)).chunks[1];
    await corrupt('n1', chunk.hash);
    expect(await stored('n1', chunk.hash)).not.toBe(chunk.hash);

    const res = await report(id, { index: 1, hash: chunk.hash, node: 'n1', code: 'integrity_failed' });
    expect(res.status).toBe(202);
    const audit = await auditOutcome(id, chunk.hash, 'n1');
    expect(audit).toMatchObject({ index: 1, outcome: 'repaired', target: 'n1' });
    expect(await stored('n1', chunk.hash)).toBe(chunk.hash);
    const after = await manifest(id);
    expect(after.chunks[1].nodes.sort()).toEqual(['n1', 'n2']);
    // the node's recent health in every manifest: one bad replica found on n1 today
    expect(after.nodes.map((n) => [n.id, n.faults]).sort()).toEqual([['n1', 1], ['n2', undefined]]);
    const rows = await env.DB.prepare('SELECT node_id FROM placements WHERE content_id = ? AND hash = ? ORDER BY node_id').bind(id, chunk.hash).all();
    expect(rows.results).toEqual([{ node_id: 'n1' }, { node_id: 'n2' }]);
    const events = await env.DB.prepare("SELECT node_id, detail FROM events WHERE kind = 'replica-audit' AND content_id = ?").bind(id).all();
    expect(events.results).toEqual([{ node_id: 'n1', detail: JSON.stringify({ index: 1, hash: chunk.hash, outcome: 'repaired', target: 'n1' }) }]);

    // Another report about the same replica soon after changes nothing more.
    await report(id, { index: 1, hash: chunk.hash, node: 'n1', code: 'stamp_mismatch' });
    await runDurableObjectAlarm(stub(id));
    expect((await reports(id)).audits).toHaveLength(1);
  });

  it('that verifies is left as it is', async () => {
    const id = await uploadBytes(owner, randomBytes(2 * CS), { replicas: 2 });
    const before = await manifest(id);
    const chunk = before.chunks[0];
    await report(id, { index: 0, hash: chunk.hash, node: 'n2', code: 'integrity_failed' });
    expect(await auditOutcome(id, chunk.hash, 'n2')).toMatchObject({ outcome: 'healthy', target: null });
    expect((await manifest(id)).chunks).toEqual(before.chunks);
    expect(await stored('n2', chunk.hash)).toBe(chunk.hash);
  });

  it('with no verified copy anywhere is reported unrecoverable and nothing is dropped', async () => {
    const id = await uploadBytes(owner, randomBytes(2 * CS), { replicas: 2 });
    const before = await manifest(id);
    const chunk = before.chunks[1];
    await corrupt('n1', chunk.hash);
    await corrupt('n2', chunk.hash);
    await report(id, { index: 1, hash: chunk.hash, node: 'n1', code: 'integrity_failed' });
    expect(await auditOutcome(id, chunk.hash, 'n1')).toMatchObject({ outcome: 'unrecoverable' });
    expect((await manifest(id)).chunks).toEqual(before.chunks);
  });

  it('whose other replica cannot be read now is retried later, not given up, and nothing moves', async () => {
    const id = await uploadBytes(owner, randomBytes(2 * CS), { replicas: 2 });
    const before = await manifest(id);
    const chunk = before.chunks[0];
    await corrupt('n1', chunk.hash);
    down.add('n2');
    try {
      await report(id, { index: 0, hash: chunk.hash, node: 'n1', code: 'integrity_failed' });
      let audit;
      for (let i = 0; i < 50 && !audit?.attempts; i++) {
        await runDurableObjectAlarm(stub(id));
        audit = (await reports(id)).audits[0];
      }
      expect(audit).toMatchObject({ outcome: null, attempts: 1 });
    } finally {
      down.delete('n2');
    }
    expect((await manifest(id)).chunks).toEqual(before.chunks);
  });

  it('whose node no longer takes new copies is dropped and a verified copy placed on another node', async () => {
    await registerNode('n4');
    const id = await uploadBytes(owner, randomBytes(4 * CS), { replicas: 2 });
    const chunk = (await manifest(id)).chunks[0];
    const [bad, keep] = chunk.nodes as (keyof typeof LIVE)[];
    const spare = (['n1', 'n2', 'n4'] as const).find((n) => !chunk.nodes.includes(n))!;
    await corrupt(bad, chunk.hash);
    await registerNode(bad, 1, 'draining');
    try {
      await report(id, { index: 0, hash: chunk.hash, node: bad, code: 'integrity_failed' });
      // The drain moves every copy off the node as well, and whichever gets to this chunk first,
      // the bad copy is never what is copied: the chunk ends verified on the other two nodes.
      const audit = await auditOutcome(id, chunk.hash, bad);
      if (audit.outcome === 'moved') expect(audit.target).toBe(spare);
      else expect(audit.outcome).toBe('skipped');
      await expect.poll(async () => {
        await runDurableObjectAlarm(stub(id));
        return (await manifest(id)).chunks[0].nodes.sort();
      }, { timeout: 20_000 }).toEqual([keep, spare].sort());
      expect(await stored(spare, chunk.hash)).toBe(chunk.hash);
      await expect.poll(async () => {
        await runDurableObjectAlarm(stub(id));
        return stored(bad, chunk.hash);
      }, { timeout: 20_000 }).toBeNull();
    } finally {
      await registerNode(bad, 1, 'active');
    }
  });

  it('that names the wrong index queues nothing', async () => {
    const id = await uploadBytes(owner, randomBytes(2 * CS), { replicas: 2 });
    const chunk = (await manifest(id)).chunks[1];
    const res = await report(id, { index: 0, hash: chunk.hash, node: chunk.nodes[0], code: 'integrity_failed' });
    expect(res.status).toBe(202);
    await runDurableObjectAlarm(stub(id));
    expect((await reports(id)).audits).toEqual([]);
  });
});
