// Demand on the real stack (workerd, R2, D1, Durable Objects; nodes are processes): a bounded
// load generator plays many viewers of one content, each with its own grant; the nodes tally
// what they serve, the sweep takes it, the manager raises the content's copies and the load
// spreads over more nodes; when the load stops, the copies go back to the base after the
// cool-down. A standby mirror wakes when the network nears its egress and goes back after.
// Every wait is for a condition, never for a time.
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ContentInfo, NodeStatus } from '../../protocol/api.ts';
import { generateLoad, type Sample, type Viewer } from './load-generator.ts';
import { holders, statuses, until } from './lifecycle-helpers.ts';
import { cli, startTestStack, type TestStack } from './local-stack.ts';

const MiB = 1024 * 1024;
// Small numbers so that a loopback generator is real load: a node delivers 2 MiB/s unless it says otherwise.
const DEMAND = {
  DEMAND_NODE_EGRESS: String(2 * MiB), DEMAND_SMOOTH_SECONDS: '2', DEMAND_COOL_DOWN_SECONDS: '6', DEMAND_MIN_VIEWERS: '2',
};
const LIFECYCLE = { sweepSeconds: 1, downGraceSeconds: 60, orphanGraceSeconds: 60, inventorySeconds: 600 };

let stack: TestStack;
let id: string;
let viewers: Viewer[];

const info = async () => (await cli(stack, ['info', id, '--json'])).json<ContentInfo>();
/** How the load was spread: nodes that served, the busiest one's share, and the fewest nodes any chunk came from. */
const spread = (s: Sample) => {
  const total = [...s.bytes.values()].reduce((a, b) => a + b, 0);
  return { nodes: s.bytes.size, top: Math.max(...s.bytes.values()) / total, perChunk: Math.min(...[...s.from.values()].map((x) => x.size)) };
};

async function api(path: string, init: RequestInit & { admin?: boolean } = {}): Promise<any> {
  const res = await fetch(`${stack.portalUrl}/api/v1${path}`, {
    ...init, headers: { authorization: `Bearer ${init.admin ? stack.secrets.ADMIN_TOKEN : stack.token}`, 'content-type': 'application/json' },
  });
  const body = await res.json();
  if (!res.ok) throw new Error(`${path}: ${JSON.stringify(body)}`);
  return body;
}

/** Each node's egress, as an operator registers it (its other attributes unchanged). */
async function setEgress(list: [string, number][]): Promise<void> {
  for (const [id, egress] of list) {
    const n = stack.nodes.find((x) => x.id === id)!;
    await api('/nodes', { method: 'PUT', admin: true, body: JSON.stringify({ id, url: n.publicUrl, region: 'local', grade: 1, weight: 1, egress }) });
  }
}

beforeAll(async () => {
  stack = await startTestStack(5, { lifecycle: LIFECYCLE, demand: DEMAND });
  // n5 leaves the core and comes back as a standby mirror: it holds nothing until demand wakes it.
  await until('n5 retired', async () => (await cli(stack, ['nodes', 'retire', 'n5'])).code, (c) => c === 0);
  const added = await cli(stack, ['nodes', 'add', stack.nodes[4].publicUrl, '--id', 'n5', '--standby']);
  expect(added.code, added.stderr).toBe(0);
  const file = join(stack.home, 'popular.bin');
  writeFileSync(file, randomBytes(8 * 64 * 1024));
  const r = await cli(stack, ['upload', file, '--replicas', '1', '--chunk-size', String(64 * 1024), '--private', '--json']);
  expect(r.code, r.stderr).toBe(0);
  id = r.json().id;
  viewers = await Promise.all(Array.from({ length: 12 }, async (_, i) => {
    const g = await api(`/contents/${id}/grants`, { method: 'POST', body: JSON.stringify({ ttlSeconds: 3600 }) });
    return { grant: g.grant as string, region: 'local', i };
  }));
});

afterAll(async () => {
  await stack?.dispose();
});

describe('demand shapes the network', () => {
  it('a standby mirror holds nothing and serves nothing while demand is low', async () => {
    const n5 = (await statuses(stack)).find((n) => n.id === 'n5')!;
    expect(n5).toMatchObject({ state: 'standby', mirror: true, chunksHeld: 0 });
    expect((await info()).copies).toMatchObject({ base: 1, current: 1 });
  });

  it('copies rise under many viewers and the load spreads over more nodes; after the load, they fall back to the base', async () => {
    // The node holding most of the content says it delivers 256 KiB/s, the others 4 MiB/s: with
    // viewers drawing 3 MiB/s (1 MiB/s would do) that node runs hot — it carries at least a
    // quarter of them — and the others do not, whatever the placement drew: copies must rise,
    // and have somewhere to go.
    const counts = new Map<string, number>();
    for (const h of await holders(stack, id)) for (const n of h) counts.set(n, (counts.get(n) ?? 0) + 1);
    const busiest = [...counts].sort((a, b) => b[1] - a[1])[0][0];
    await setEgress(stack.nodes.slice(0, 4).map((n) => [n.id, n.id === busiest ? 256 * 1024 : 4 * MiB]));
    // One copy per chunk before the load: each chunk's load falls on one node.
    expect((await holders(stack, id)).every((h) => h.length === 1)).toBe(true);
    const began = Date.now();
    const load = generateLoad(stack.portalUrl, id, viewers, 3 * MiB);
    try {
      await until('some load measured', async () => load.total, (t) => t > MiB, 60);
      const before = spread(load.take());
      const raised = await until('copies raised', info, (i) => (i.copies?.current ?? 1) > 1, 90);
      const riseSeconds = (Date.now() - began) / 1000;
      expect(raised.copies!.reason).toMatch(/demand/);
      expect(raised.demand!.rate).toBeGreaterThan(0);
      expect(raised.demand!.windows.find((w) => w.window === '1m')!.viewers).toBeGreaterThanOrEqual(2);
      // The extra copies are made (each chunk on more nodes) and manifests list them.
      await until('extra copies made', () => holders(stack, id), (hs) => hs.every((h) => h.length >= 2), 90);
      load.take(); // views that began before the manifests listed the new copies
      const sample: Sample = { bytes: new Map(), from: new Map(), views: 0 };
      // Enough views that a chunk with two listed copies is fetched from both (each view picks one at random).
      await until('a new sample', async () => {
        const s = load.take();
        for (const [n, b] of s.bytes) sample.bytes.set(n, (sample.bytes.get(n) ?? 0) + b);
        for (const [i, f] of s.from) sample.from.set(i, new Set([...(sample.from.get(i) ?? []), ...f]));
        sample.views += s.views;
        return sample.views;
      }, (v) => v >= 40, 90);
      const after = spread(sample);
      // Every chunk's load now falls on at least two nodes.
      expect(after.perChunk).toBeGreaterThanOrEqual(2);
      expect(after.nodes).toBeGreaterThanOrEqual(before.nodes);
      console.log(`copies rose to ${raised.copies!.current} ${riseSeconds.toFixed(1)} s after the load began; each chunk served by ${before.perChunk} -> ${after.perChunk}+ nodes; busiest node's share ${before.top.toFixed(2)} -> ${after.top.toFixed(2)} over ${before.nodes} -> ${after.nodes} nodes`);
    } finally {
      await load.stop();
    }
    const stoppedAt = Date.now();
    const cooled = await until('copies back to the base', info, (i) => i.copies?.current === 1, 120);
    expect(cooled.copies!.changes.at(-1)!.reason).toMatch(/cooled/);
    await until('extra copies deleted', () => holders(stack, id), (hs) => hs.every((h) => h.length === 1), 90);
    console.log(`copies back to base ${((Date.now() - stoppedAt) / 1000).toFixed(1)} s after the load stopped`);
  });

  it('a standby mirror wakes when demand nears the active egress, takes demand copies, and goes back to standby after', async () => {
    // The core nodes say they deliver 256 KiB/s each: 2 MiB/s of viewers is far over 0.8 of their
    // 1 MiB/s together, whatever this machine's speed, and within what the woken mirror can take.
    await setEgress(stack.nodes.slice(0, 4).map((n) => [n.id, 256 * 1024]));
    const load = generateLoad(stack.portalUrl, id, viewers, 2 * MiB);
    const started = Date.now();
    let woken: NodeStatus;
    try {
      woken = (await until('n5 woken', () => statuses(stack), (ns) => ns.find((n) => n.id === 'n5')!.state === 'active', 90)).find((n) => n.id === 'n5')!;
      expect(woken.stateReason).toMatch(/woken/);
      const wokeAfter = (Date.now() - started) / 1000;
      await until('n5 holds demand copies', () => statuses(stack), (ns) => ns.find((n) => n.id === 'n5')!.chunksHeld > 0, 90);
      console.log(`standby n5 woke ${wokeAfter.toFixed(1)} s after the load began, and held demand copies ${((Date.now() - started) / 1000).toFixed(1)} s after`);
      // Its copies are demand copies only: no chunk has its only copy there.
      for (const h of await holders(stack, id)) if (h.includes('n5')) expect(h.length).toBeGreaterThanOrEqual(2);
    } finally {
      await load.stop();
    }
    const stoppedAt = Date.now();
    const back = await until('n5 back to standby', () => statuses(stack), (ns) => ns.find((n) => n.id === 'n5')!.state === 'standby', 150);
    expect(back.find((n) => n.id === 'n5')!.chunksHeld).toBe(0);
    console.log(`n5 back to standby, empty, ${((Date.now() - stoppedAt) / 1000).toFixed(1)} s after the load stopped`);
    const events = (await cli(stack, ['nodes', '--json'])).json<{ nodes: NodeStatus[] }>();
    expect(events.nodes.find((n) => n.id === 'n5')!.stateReason).toMatch(/standby/);
    // Every chunk still has its base copy, and the content plays.
    for (const h of await holders(stack, id)) expect(h.length).toBeGreaterThanOrEqual(1);
    const got = await cli(stack, ['get', id, '-o', join(stack.home, 'out.bin')]);
    expect(got.code, got.stderr).toBe(0);
  });
});
