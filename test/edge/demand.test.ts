// Demand inside workerd, end to end through the portal: manifest opens are counted per viewer
// (a flood from one viewer counts once a minute and adds no copy), the sweep takes what nodes
// served to viewers, a content whose distinct viewers draw more than its copies can deliver gets
// more copies — made by the reconcile pass and listed in manifests — and a content being
// deleted gets nothing. The rate a real network would need is handed to the manager directly,
// as the sweep does: the test's nodes are in one isolate and cannot be loaded for real here.
import { env, runDurableObjectAlarm } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ContentInfo } from '../../protocol/api.ts';
import type { Manifest } from '../../protocol/manifest.ts';
import { ADMIN_TOKEN, bearerOf, down, JSON_CT, newProvider, nodeCall, portalCall, randomBytes, registerNode, routeNodes, uploadBytes } from './edge-stack.ts';

const admin = { ...bearerOf(ADMIN_TOKEN), ...JSON_CT };
const GiB = 1024 ** 3;
let owner = '';

const stub = (id: string) => env.MANAGER.get(env.MANAGER.idFromName(id));
const info = async (id: string) => (await (await portalCall(`/api/v1/contents/${id}`, { headers: bearerOf(owner) })).json()) as ContentInfo;
const manifestAs = async (id: string, grant: string, region?: string) => {
  const res = await portalCall(`/api/v1/contents/${id}/manifest`, { headers: { ...bearerOf(grant), ...(region ? { 'x-bunsan-viewer-region': region } : {}) } });
  expect(res.status).toBe(200);
  return (await res.json()) as Manifest;
};
const grantsFor = (id: string, n: number) => Promise.all(Array.from({ length: n }, async () => {
  const res = await portalCall(`/api/v1/contents/${id}/grants`, { method: 'POST', headers: { ...bearerOf(owner), ...JSON_CT }, body: JSON.stringify({ ttlSeconds: 600 }) });
  return ((await res.json()) as { grant: string }).grant;
}));
/** What a sweep hands a manager when its nodes delivered `bytes` in one second (smoothed over two minutes: about 1/120 of it counts). */
const heavy = (bytes = 2000 * GiB) => ({ bytes, byNode: { n1: bytes }, dtMs: 1000 });

beforeAll(async () => {
  routeNodes();
  for (const id of ['n1', 'n2', 'n4'] as const) await registerNode(id);
  owner = await newProvider('demand');
});

describe('demand', () => {
  it('counts a viewer once a minute however often it asks: a flood adds no copy', async () => {
    const id = await uploadBytes(owner, randomBytes(4 * 65536), { visibility: 'private' });
    const [g] = await grantsFor(id, 1);
    for (let i = 0; i < 40; i++) await manifestAs(id, g);
    await stub(id).noteServed(heavy());
    const i = await info(id);
    const minute = i.demand!.windows.find((w) => w.window === '1m')!;
    expect(minute).toMatchObject({ viewers: 1, opens: 40 });
    expect(i.copies).toMatchObject({ base: 1, current: 1 });
  });

  it('raises the copies of a content many viewers draw on, makes them and lists them in manifests', async () => {
    const id = await uploadBytes(owner, randomBytes(4 * 65536), { visibility: 'private' });
    const grants = await grantsFor(id, 3);
    for (const g of grants) await manifestAs(id, g);
    const r = await stub(id).noteServed(heavy());
    expect(r?.current).toBe(3); // the ceiling: three nodes take copies
    const i = await info(id);
    expect(i.copies).toMatchObject({ base: 1, current: 3, ceiling: 3 });
    expect(i.copies!.reason).toMatch(/demand/);
    expect(i.copies!.changes.at(-1)).toMatchObject({ from: 1, to: 3 });
    const events = await env.DB.prepare("SELECT detail FROM events WHERE kind = 'copies-raised' AND content_id = ?").bind(id).all<{ detail: string }>();
    expect(JSON.parse(events.results[0].detail)).toMatchObject({ from: 1, to: 3, base: 1 });
    // The manager's reconcile pass makes the copies (the same pass that repairs and drains).
    for (let k = 0; k < 20; k++) {
      const m = await manifestAs(id, grants[0]);
      if (m.chunks.every((c) => c.nodes.length === 3)) return;
      await runDurableObjectAlarm(stub(id));
    }
    throw new Error('the extra copies were not made');
  });

  it('the sweep takes what each node served to viewers and hands it to the content', async () => {
    const id = await uploadBytes(owner, randomBytes(2 * 65536));
    const m = (await (await portalCall(`/api/v1/contents/${id}/manifest`)).json()) as Manifest;
    const c = m.chunks[0];
    const res = await nodeCall(c.nodes[0] as 'n1', `/v1/chunks/${c.hash}`, { headers: bearerOf(m.tokens.get) });
    expect((await res.arrayBuffer()).byteLength).toBe(c.sealedLength);
    expect((await portalCall('/api/v1/sweep', { method: 'POST', headers: admin })).status).toBe(200);
    const minute = (await info(id)).demand!.windows.find((w) => w.window === '1m')!;
    expect(minute.bytes).toBe(c.sealedLength);
    expect(minute.opens).toBe(1);
  });

  it("moves a content's manager to where its viewers are, and it goes on serving", async () => {
    const id = await uploadBytes(owner, randomBytes(2 * 65536), { visibility: 'private' });
    expect((await info(id)).manager?.region ?? null).toBeNull();
    const grants = await grantsFor(id, 4);
    let m: Manifest | null = null;
    for (const g of grants) m = await manifestAs(id, g, 'weur');
    // One viewer elsewhere does not hold the move back: 4 of 5 is over the share.
    await manifestAs(id, (await grantsFor(id, 1))[0], 'apac');
    const c = m!.chunks[0];
    await (await nodeCall(c.nodes[0] as 'n1', `/v1/chunks/${c.hash}`, { headers: bearerOf(m!.tokens.get) })).arrayBuffer();
    const sweep = (await (await portalCall('/api/v1/sweep', { method: 'POST', headers: admin })).json()) as { demand: { moved: { content: string; region: string }[] } };
    expect(sweep.demand.moved).toContainEqual(expect.objectContaining({ content: id, region: 'weur' }));
    const after = await info(id);
    expect(after.manager).toMatchObject({ region: 'weur' });
    expect(after.manager!.name).not.toBe(id);
    // The demand came along with the rest of the manager's state, and viewers keep their grants.
    expect(after.demand!.windows.find((w) => w.window === '1m')!.viewers).toBe(5);
    await manifestAs(id, grants[0], 'weur');
    const events = await env.DB.prepare("SELECT detail FROM events WHERE kind = 'manager-moved' AND content_id = ?").bind(id).all<{ detail: string }>();
    expect(events.results[0].detail).toMatch(/viewers are in weur/);
  });

  it('a hot node sheds a hot content: no new copy goes to it, and part of its copies move to cooler nodes', async () => {
    const id = await uploadBytes(owner, randomBytes(64 * 65536), { visibility: 'private' });
    const grants = await grantsFor(id, 3);
    for (const g of grants) await manifestAs(id, g);
    const on = (m: Manifest) => new Set(m.chunks.filter((c) => c.nodes.includes('n1')).map((c) => c.index));
    const before = on(await manifestAs(id, grants[0]));
    await env.DB.prepare("UPDATE nodes SET hot = 1 WHERE id = 'n1'").run();
    try {
      expect((await stub(id).noteServed(heavy()))?.current).toBe(3);
      // Reconcile passes until none is due (each alarm runs one slice).
      for (let k = 0; k < 40 && (await info(id)).upkeep?.due != null; k++) await runDurableObjectAlarm(stub(id));
      expect((await info(id)).upkeep?.due ?? null).toBeNull();
      const m = await manifestAs(id, grants[0]);
      const after = on(m);
      // Nothing new on the hot node, a good part of what it held gone elsewhere, no chunk without a copy.
      for (const i of after) expect(before.has(i)).toBe(true);
      expect(after.size).toBeLessThan(before.size);
      expect(m.chunks.every((c) => c.nodes.length >= 1)).toBe(true);
    } finally {
      await env.DB.prepare("UPDATE nodes SET hot = 0 WHERE id = 'n1'").run();
    }
  });

  it('a content being deleted has no demand', async () => {
    const id = await uploadBytes(owner, randomBytes(65536), { replicas: 3 });
    // A node that does not answer keeps the content deleting (its copy there is still owed a delete).
    down.add('n4');
    try {
      expect((await portalCall(`/api/v1/contents/${id}`, { method: 'DELETE', headers: bearerOf(owner) })).status).toBe(202);
      expect(await stub(id).noteServed(heavy())).toBeNull();
      expect((await info(id)).copies?.current ?? 3).toBe(3);
    } finally {
      down.delete('n4');
    }
  });
});
