// Security grades and randomised placement: chunks go only to active nodes of the content's
// required grade or better, and a random placement is a CSPRNG draw recorded per chunk.
import { env } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import { apiFor, envelope, JSON_CT, bearerOf, newProvider, portalCall, randomBytes, registerNode, routeNodes, uploadBytes } from './edge-stack.ts';

let token = '';

beforeAll(async () => {
  routeNodes();
  await registerNode('n1', 1);
  await registerNode('n2', 5);
  await registerNode('n3', 7, 'draining'); // high grade but not active: never chosen
  token = await newProvider();
});

describe('security grade', () => {
  it('places every chunk on nodes of the required grade or better', async () => {
    const id = await uploadBytes(token, randomBytes(300_000), { minGrade: 5 });
    const info = await apiFor(token).info(id);
    expect(info.chunks).toHaveLength(5);
    for (const ch of info.chunks) expect(ch.replicas.map((r) => r.node)).toEqual(['n2']);
    const s = await apiFor(token).session(id);
    expect(s.minGrade).toBe(5);
    const row = await env.DB.prepare('SELECT min_grade FROM contents WHERE id = ?').bind(id).first<{ min_grade: number }>();
    expect(row!.min_grade).toBe(5);
  });

  it('refuses with not_enough_nodes when too few active nodes qualify, and creates nothing', async () => {
    const before = (await env.DB.prepare('SELECT COUNT(*) AS n FROM contents').first<{ n: number }>())!.n;
    for (const body of [{ minGrade: 5, replicas: 2 }, { minGrade: 8 }, { minGrade: 6 }]) {
      const res = await portalCall('/api/v1/uploads', { method: 'POST', headers: { ...bearerOf(token), ...JSON_CT }, body: JSON.stringify({ name: 'x', size: 1, ...body }) });
      expect(await envelope(res), JSON.stringify(body)).toEqual([503, 'not_enough_nodes']);
    }
    expect((await env.DB.prepare('SELECT COUNT(*) AS n FROM contents').first<{ n: number }>())!.n).toBe(before);
  });

  it('rejects grades outside 0-9', async () => {
    for (const minGrade of [-1, 10, 1.5, '5']) {
      const res = await portalCall('/api/v1/uploads', { method: 'POST', headers: { ...bearerOf(token), ...JSON_CT }, body: JSON.stringify({ name: 'x', size: 1, minGrade }) });
      expect(await envelope(res)).toEqual([400, 'invalid_body']);
    }
  });
});

describe('randomised placement', () => {
  it('draws nodes per chunk among the eligible ones and records them', async () => {
    const id = await uploadBytes(token, randomBytes(40 * 65536), { placement: 'random' });
    const info = await apiFor(token).info(id);
    const used = new Map<string, number>();
    for (const ch of info.chunks) {
      expect(ch.replicas).toHaveLength(1);
      expect(ch.replicas[0].state).toBe('stored');
      used.set(ch.replicas[0].node, (used.get(ch.replicas[0].node) ?? 0) + 1);
    }
    // 40 fair draws over two nodes: each gets some (all on one has probability 2^-39).
    expect([...used.keys()].sort()).toEqual(['n1', 'n2']);
    expect((await apiFor(token).session(id)).placement).toBe('random');
    // The manifest names exactly the recorded placement.
    const m = await apiFor(token).manifest(id);
    m.chunks.forEach((c, i) => expect(c.nodes).toEqual([info.chunks[i].replicas[0].node]));
  });

  it('refuses an unknown placement mode', async () => {
    const res = await portalCall('/api/v1/uploads', { method: 'POST', headers: { ...bearerOf(token), ...JSON_CT }, body: JSON.stringify({ name: 'x', size: 1, placement: 'nearest' }) });
    expect(await envelope(res)).toEqual([400, 'invalid_body']);
  });
});
