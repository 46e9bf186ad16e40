// The portal and its per-content managers inside workerd, with D1 migrated as deployed. Nodes
// here are registered at addresses nobody listens on: what needs a live node is covered by the
// system tests; this file covers the API, auth, validation and the manager's own state.
import { env, runInDurableObject } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import app from '../../edge/portal/index.ts';
import type { ContentManager } from '../../edge/portal/index.ts';

const ADMIN = { authorization: 'Bearer test-admin-token' };
const JSON_CT = { 'content-type': 'application/json' };
let provider = '';

const call = (path: string, init: RequestInit = {}) => app.request(`http://portal${path}`, init, env);
const json = async (res: Response) => ({ status: res.status, body: (await res.json()) as any });

async function open(body: unknown, token = provider) {
  return json(await call('/api/v1/uploads', { method: 'POST', headers: { authorization: `Bearer ${token}`, ...JSON_CT }, body: JSON.stringify(body) }));
}

beforeAll(async () => {
  for (const id of ['n1', 'n2', 'n3']) {
    const r = await call('/api/v1/nodes', { method: 'PUT', headers: { ...ADMIN, ...JSON_CT }, body: JSON.stringify({ id, url: `http://127.0.0.1:9/${id}` }) });
    expect(r.status).toBe(200);
  }
  const p = await json(await call('/api/v1/providers', { method: 'POST', headers: { ...ADMIN, ...JSON_CT }, body: JSON.stringify({ name: 'test' }) }));
  expect(p.status).toBe(201);
  provider = p.body.token;
});

describe('portal API', () => {
  it('answers health, keys and the node directory', async () => {
    expect((await json(await call('/api/v1/health'))).body.ok).toBe(true);
    expect((await json(await call('/api/v1/keys'))).body.signingPublicKey).toBe(env.SIGNING_PUBLIC_KEY);
    const nodes = (await json(await call('/api/v1/nodes'))).body.nodes;
    expect(nodes.map((n: { id: string }) => n.id)).toEqual(['n1', 'n2', 'n3']);
  });

  it('stores API tokens hashed, never in the clear', async () => {
    const rows = await env.DB.prepare('SELECT token_hash FROM api_tokens').all<{ token_hash: string }>();
    expect(rows.results.length).toBeGreaterThan(0);
    for (const r of rows.results) expect(r.token_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(rows.results)).not.toContain(provider);
  });

  it('refuses operator routes without the operator credential', async () => {
    const body = JSON.stringify({ id: 'n9', url: 'http://x.example' });
    expect((await json(await call('/api/v1/nodes', { method: 'PUT', headers: JSON_CT, body }))).body.error.code).toBe('unauthorized');
    const asProvider = await json(await call('/api/v1/nodes', { method: 'PUT', headers: { authorization: `Bearer ${provider}`, ...JSON_CT }, body }));
    expect(asProvider.status).toBe(403);
    expect((await env.DB.prepare("SELECT COUNT(*) AS n FROM nodes WHERE id = 'n9'").first<{ n: number }>())!.n).toBe(0);
  });

  it('opens an upload with a plan, a stamp and a wrapped secret', async () => {
    const r = await open({ name: 'a.bin', size: 3 * 65536 + 5, chunking: { mode: 'regular', size: 65536 } });
    expect(r.status).toBe(201);
    expect(r.body.chunkCount).toBe(4);
    expect(r.body.stored).toEqual([]);
    const row = await env.DB.prepare('SELECT state FROM contents WHERE id = ?').bind(r.body.id).first<{ state: string }>();
    expect(row!.state).toBe('uploading');
    const stub = env.MANAGER.get(env.MANAGER.idFromName(r.body.id));
    await runInDurableObject(stub, async (_m: ContentManager, state) => {
      const rec = JSON.parse(state.storage.sql.exec<{ v: string }>("SELECT v FROM meta WHERE k = 'record'").one().v);
      expect(rec.wrappedSecret).not.toContain(r.body.secret);
      // The plan is its parameters and count: chunk rows come with registration.
      expect(rec.chunkCount).toBe(4);
      expect(state.storage.sql.exec('SELECT * FROM chunks').toArray()).toHaveLength(0);
    });
  });

  it('rejects bad upload requests with envelopes and creates nothing', async () => {
    const before = (await env.DB.prepare('SELECT COUNT(*) AS n FROM contents').first<{ n: number }>())!.n;
    const cases: [RequestInit, number, string][] = [
      [{ body: '{nope', headers: JSON_CT }, 400, 'bad_json'],
      [{ body: JSON.stringify({ name: 'x' }), headers: JSON_CT }, 400, 'invalid_body'],
      [{ body: JSON.stringify({ name: '../x', size: 1 }), headers: JSON_CT }, 400, 'invalid_body'],
      [{ body: JSON.stringify({ name: 'x', size: -1 }), headers: JSON_CT }, 400, 'invalid_body'],
      [{ body: JSON.stringify({ name: 'x', size: 1, extra: 1 }), headers: JSON_CT }, 400, 'invalid_body'],
      [{ body: JSON.stringify({ name: 'x', size: 1 }), headers: { 'content-type': 'text/plain' } }, 415, 'unsupported_media_type'],
      [{ body: 'x'.repeat(300 * 1024), headers: JSON_CT }, 413, 'payload_too_large'],
      [{ body: '['.repeat(100) + ']'.repeat(100), headers: JSON_CT }, 400, 'invalid_body'],
      [{ body: JSON.stringify({ name: 'x', size: 1, replicas: 4 }), headers: JSON_CT }, 503, 'not_enough_nodes'],
    ];
    for (const [init, status, code] of cases) {
      const r = await json(await call('/api/v1/uploads', { method: 'POST', ...init, headers: { authorization: `Bearer ${provider}`, ...(init.headers as object) } }));
      expect([r.status, r.body.error?.code]).toEqual([status, code]);
    }
    expect((await open({ name: 'x', size: 1 }, 'bsn_forged')).body.error.code).toBe('token_invalid');
    expect((await env.DB.prepare('SELECT COUNT(*) AS n FROM contents').first<{ n: number }>())!.n).toBe(before);
  });

  it('places each registered chunk on distinct nodes with per-chunk upload tokens', async () => {
    const s = (await open({ name: 'b.bin', size: 2 * 65536, chunking: { mode: 'regular', size: 65536 } })).body;
    const hashes = ['a'.repeat(64), 'b'.repeat(64)];
    const r = await json(await call(`/api/v1/uploads/${s.id}/chunks`, {
      method: 'POST', headers: { authorization: `Bearer ${provider}`, ...JSON_CT },
      body: JSON.stringify({ chunks: hashes.map((hash, index) => ({ index, hash, sealedLength: 65536 + 28 })) }),
    }));
    expect(r.status).toBe(200);
    for (const ch of r.body.chunks) {
      expect(new Set(ch.targets.map((t: { node: string }) => t.node)).size).toBe(2);
      for (const t of ch.targets) expect(t.token.split('.')).toHaveLength(2);
    }
    // A wrong sealed length is refused and the chunk keeps its registration.
    const bad = await json(await call(`/api/v1/uploads/${s.id}/chunks`, {
      method: 'POST', headers: { authorization: `Bearer ${provider}`, ...JSON_CT },
      body: JSON.stringify({ chunks: [{ index: 0, hash: 'c'.repeat(64), sealedLength: 10 }] }),
    }));
    expect([bad.status, bad.body.error.code]).toEqual([400, 'invalid_body']);
    // Commit is refused while the nodes have confirmed nothing; nothing is listed or downloadable.
    const commit = await json(await call(`/api/v1/uploads/${s.id}/commit`, { method: 'POST', headers: { authorization: `Bearer ${provider}` } }));
    expect([commit.status, commit.body.error.code]).toEqual([409, 'upload_incomplete']);
    const manifest = await json(await call(`/api/v1/contents/${s.id}/manifest`));
    expect([manifest.status, manifest.body.error.code]).toEqual([409, 'not_committed']);
    const list = (await json(await call('/api/v1/contents'))).body.contents;
    expect(list.map((c: { id: string }) => c.id)).not.toContain(s.id);
    // Confirmation against unreachable nodes leaves the chunks missing.
    const conf = await json(await call(`/api/v1/uploads/${s.id}/confirm`, {
      method: 'POST', headers: { authorization: `Bearer ${provider}`, ...JSON_CT }, body: JSON.stringify({ hashes }),
    }));
    expect(conf.body.stored).toEqual([]);
    expect(conf.body.missing).toHaveLength(2);
  });

  it('keeps other providers out of an upload', async () => {
    const s = (await open({ name: 'c.bin', size: 10 })).body;
    const other = (await json(await call('/api/v1/providers', { method: 'POST', headers: { ...ADMIN, ...JSON_CT }, body: JSON.stringify({ name: 'other' }) }))).body.token;
    const r = await json(await call(`/api/v1/uploads/${s.id}`, { headers: { authorization: `Bearer ${other}` } }));
    expect([r.status, r.body.error.code]).toEqual([403, 'forbidden']);
  });

  it('answers unknown and malformed content ids without creating a manager', async () => {
    const unknown = await json(await call(`/api/v1/contents/${'0'.repeat(32)}/manifest`));
    expect([unknown.status, unknown.body.error.code]).toEqual([404, 'content_not_found']);
    const malformed = await json(await call('/api/v1/contents/..%2f..%2fetc/manifest'));
    expect(malformed.status).toBe(400);
    const route = await json(await call('/api/v1/nope'));
    expect([route.status, route.body.error.code]).toEqual([404, 'not_found']);
  });
});
