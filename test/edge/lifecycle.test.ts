// The node lifecycle inside workerd, end to end through the portal: drains that end by
// themselves, nodes that fail and are repaired around after their grace period, nodes that
// join and receive their share, retire refused while copies are needed, and manifests that say
// plainly what cannot be served. Nodes are the node app over test buckets (n1, n2, n4); n3 is
// registered at an address nobody answers, and `down` makes a live node stop answering.
import { env, runDurableObjectAlarm } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Manifest } from '../../protocol/manifest.ts';
import { sweeperOf } from '../../edge/lifecycle/sweeper.ts';
import {
  ADMIN_TOKEN, apiFor, bearerOf, down, envelope, JSON_CT, LIVE, newProvider, nodeUrl, portalCall, randomBytes, registerNode, routeNodes, uploadBytes,
} from './edge-stack.ts';

const admin = { ...bearerOf(ADMIN_TOKEN), ...JSON_CT };
let owner = '';

const post = (path: string, body?: unknown) => portalCall(`/api/v1${path}`, { method: 'POST', headers: admin, body: body === undefined ? undefined : JSON.stringify(body) });
const statusOf = async (id: string) => {
  const list = (await (await portalCall('/api/v1/nodes', { headers: admin })).json()) as { nodes: { id: string; state: string; backlog: { copiesIn: number } }[] };
  return list.nodes.find((n) => n.id === id)!;
};
const manifest = async (id: string) => (await (await portalCall(`/api/v1/contents/${id}/manifest`)).json()) as Manifest;
const held = async (node: keyof typeof LIVE, content: string) =>
  (await LIVE[node].list({ prefix: 'chunks/', include: ['customMetadata'] })).objects.filter((o) => o.customMetadata?.content === content).length;

/** Sweeps and runs the alarms the sweep sets (the sweeper's, the managers') until `done`. */
async function settle(contents: string[], done: () => Promise<boolean>, limit = 60): Promise<void> {
  for (let i = 0; i < limit; i++) {
    if (await done()) return;
    expect((await post('/sweep')).status).toBe(200);
    await runDurableObjectAlarm(sweeperOf(env as never));
    for (const id of contents) await runDurableObjectAlarm(env.MANAGER.get(env.MANAGER.idFromName(id)));
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('the network did not settle');
}

beforeAll(async () => {
  routeNodes();
  for (const id of ['n1', 'n2', 'n4'] as const) await registerNode(id);
  owner = await newProvider();
});

describe('the node lifecycle', { timeout: 120_000 }, () => {
  it('drains a node: every copy moves first, the node ends empty and retired, the content stays whole', async () => {
    const id = await uploadBytes(owner, randomBytes(12 * 65536), { replicas: 2 });
    const before = await manifest(id);
    expect((await post('/nodes/n1/drain')).status).toBe(200);
    await settle([id], async () => (await statusOf('n1')).state === 'retired');
    expect(await held('n1', id)).toBe(0);
    const after = await manifest(id);
    for (const c of after.chunks) expect(c.nodes.sort()).toEqual(['n2', 'n4']);
    expect(after.chunks.map((c) => c.hash)).toEqual(before.chunks.map((c) => c.hash));
    const kinds = await env.DB.prepare("SELECT DISTINCT kind FROM events WHERE content_id = ? OR node_id = 'n1'").bind(id).all<{ kind: string }>();
    expect(kinds.results.map((k) => k.kind)).toEqual(expect.arrayContaining(['node-state', 'replica-copied', 'replica-deleted']));

    // Back through the join path: it receives its share again and becomes active.
    const res = await post('/nodes', { url: nodeUrl('n1') });
    expect(res.status).toBe(201);
    expect(((await res.json()) as { state: string }).state).toBe('joining');
    await settle([id], async () => (await statusOf('n1')).state === 'active');
    expect(await held('n1', id)).toBeGreaterThan(0);
    for (const c of (await manifest(id)).chunks) expect(c.nodes).toHaveLength(2);
  });

  it('repairs around a node that stops answering, once its grace period is over', async () => {
    const id = await uploadBytes(owner, randomBytes(10 * 65536), { replicas: 2 });
    const on = (await manifest(id)).chunks.filter((c) => c.nodes.includes('n2')).length;
    expect(on).toBeGreaterThan(0);
    down.add('n2');
    try {
      await settle([id], async () => {
        const m = await manifest(id);
        return m.chunks.every((c) => c.nodes.length === 2 && !c.nodes.includes('n2'));
      });
      expect((await statusOf('n2')).state).toBe('down');
      const lost = await env.DB.prepare("SELECT COUNT(*) AS n FROM events WHERE kind = 'node-lost' AND node_id = 'n2'").first<{ n: number }>();
      expect(lost!.n).toBeGreaterThan(0);
    } finally {
      down.delete('n2');
    }
    // It answers again: back as joining, then active with its share, and nothing is lost.
    await settle([id], async () => (await statusOf('n2')).state === 'active');
    for (const c of (await manifest(id)).chunks) expect(c.nodes).toHaveLength(2);
  });

  it('refuses to retire a node whose copies chunks still need, and says how many; --force is logged', async () => {
    const id = await uploadBytes(owner, randomBytes(6 * 65536), { replicas: 3 });
    const res = await post('/nodes/n4/retire');
    expect(await envelope(res)).toEqual([409, 'conflict']);
    expect((await statusOf('n4')).state).toBe('active');
    expect(await envelope(await post('/nodes/n9/retire'))).toEqual([404, 'node_not_found']);
    // State changes never go through the plain register call.
    const put = await portalCall('/api/v1/nodes', { method: 'PUT', headers: admin, body: JSON.stringify({ id: 'n4', url: nodeUrl('n4'), state: 'joining' }) });
    expect(await envelope(put)).toEqual([409, 'conflict']);
    const bad = await portalCall('/api/v1/nodes', { method: 'PUT', headers: admin, body: JSON.stringify({ id: 'n4', url: nodeUrl('n4'), state: 'retired' }) });
    expect(await envelope(bad)).toEqual([400, 'invalid_body']);
    await apiFor(owner).remove(id);
  });

  it('says which chunks cannot be served and why, instead of a broken manifest', async () => {
    const live = await uploadBytes(owner, randomBytes(2 * 65536), { replicas: 1 });
    const chunk = (await manifest(live)).chunks[0];
    const holder = chunk.nodes[0] as keyof typeof LIVE;
    down.add(holder);
    try {
      await settle([], async () => (await statusOf(holder)).state === 'down', 10);
      const res = await portalCall(`/api/v1/contents/${live}/manifest`);
      const body = (await res.json()) as { error: { code: string; message: string; details: { chunks: { index: number; reason: string }[] } } };
      expect(res.status).toBe(503);
      expect(body.error.code).toBe('content_unavailable');
      expect(body.error.message).toMatch(/cannot be served now/);
      expect(body.error.details.chunks.some((c) => c.reason.includes(`${holder}: down since`))).toBe(true);
    } finally {
      down.delete(holder);
    }
    await settle([live], async () => (await portalCall(`/api/v1/contents/${live}/manifest`)).status === 200);
  });

  it('retires by force a node that is gone for good, and repairs what it held', async () => {
    await registerNode('n3'); // registered, but nobody answers there
    expect(await envelope(await post('/nodes/n3/retire', { force: true }))).toEqual([200, undefined]);
    expect((await statusOf('n3')).state).toBe('retired');
    const ev = await env.DB.prepare("SELECT detail FROM events WHERE kind = 'node-state' AND node_id = 'n3' ORDER BY id DESC").first<{ detail: string }>();
    expect(JSON.parse(ev!.detail)).toMatchObject({ to: 'retired', forced: true });
  });

  it('refuses to add a URL that does not speak the node protocol, and changes nothing', async () => {
    const count = async () => (await env.DB.prepare('SELECT COUNT(*) AS n FROM nodes').first<{ n: number }>())!.n;
    const n = await count();
    for (const url of [nodeUrl('n7'), 'http://127.0.0.1:9/']) {
      const res = await post('/nodes', { url });
      expect((await envelope(res))[0]).toBe(400);
    }
    expect(await envelope(await post('/nodes', { url: nodeUrl('n4'), id: 'n5' }))).toEqual([409, 'conflict']);
    expect(await count()).toBe(n);
  });
});
