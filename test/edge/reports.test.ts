// Chunk reports at the portal: anyone may report a replica the registry knows, once a minute
// per identical report; everything else is refused with an envelope and logs nothing; the
// operator reads them back.
import { env } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import app from '../../edge/portal/index.ts';

const ADMIN = { authorization: 'Bearer test-admin-token' };
const JSON_CT = { 'content-type': 'application/json' };
const hex = (n: number, c: string) => c.repeat(n);
const ID = hex(32, 'a');
const UPLOADING = hex(32, 'b');
const HASH = hex(64, 'c');
const OTHER = hex(64, 'd');

const call = (path: string, init: RequestInit = {}) => app.request(`http://portal${path}`, init, env);
const post = (id: string, body: unknown, headers: Record<string, string> = JSON_CT) =>
  call(`/api/v1/contents/${id}/reports`, { method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body) });
const good = { index: 1, hash: HASH, node: 'n1', code: 'integrity_failed' };
const reportRows = async () =>
  (await env.DB.prepare("SELECT content_id, node_id, detail FROM events WHERE kind = 'chunk-report' ORDER BY id").all()).results;

beforeAll(async () => {
  const now = Date.now();
  const content = (id: string, state: string) => env.DB.prepare(
    `INSERT INTO contents (id, provider_id, name, type, size, version, chunk_count, replicas, state, created_at, committed_at)
     VALUES (?, 'p', 'x.bin', 'application/octet-stream', 3, 1, 3, 2, ?, ?, ?)`,
  ).bind(id, state, now, now);
  await env.DB.batch([
    content(ID, 'committed'),
    content(UPLOADING, 'uploading'),
    env.DB.prepare("INSERT INTO placements (content_id, hash, node_id, state, updated_at) VALUES (?, ?, 'n1', 'stored', ?)").bind(ID, HASH, now),
    env.DB.prepare("INSERT INTO placements (content_id, hash, node_id, state, updated_at) VALUES (?, ?, 'n1', 'stored', ?)").bind(UPLOADING, OTHER, now),
  ]);
});

describe('POST /contents/:id/reports', () => {
  it('logs a chunk-report event for a known replica, once per minute per identical report', async () => {
    const first = await post(ID, good);
    expect(first.status).toBe(202);
    expect(await first.json()).toEqual({ recorded: true });
    const again = await post(ID, good);
    expect(again.status).toBe(202);
    expect(await again.json()).toEqual({ recorded: false });
    const stamp = await post(ID, { ...good, code: 'stamp_mismatch' });
    expect(await stamp.json()).toEqual({ recorded: true });
    const rows = await reportRows();
    expect(rows).toHaveLength(2);
    expect(rows[0]).toEqual({ content_id: ID, node_id: 'n1', detail: JSON.stringify({ index: 1, hash: HASH, code: 'integrity_failed' }) });
  });

  it('refuses what is malformed, too big, or names no replica it knows, and logs nothing', async () => {
    const before = (await reportRows()).length;
    const cases: Array<[string, unknown, number, string, Record<string, string>?]> = [
      [ID, { ...good, extra: 1 }, 400, 'invalid_body'],
      [ID, { ...good, code: 'node_unreachable' }, 400, 'invalid_body'],
      [ID, { ...good, hash: 'C'.repeat(64) }, 400, 'invalid_body'],
      [ID, { ...good, node: '../n1' }, 400, 'invalid_body'],
      [ID, { ...good, index: -1 }, 400, 'invalid_body'],
      [ID, { ...good, index: 3 }, 400, 'invalid_body'],
      [ID, '{nope', 400, 'bad_json'],
      [ID, { ...good, pad: 'x'.repeat(2000) }, 413, 'payload_too_large'],
      [ID, good, 415, 'unsupported_media_type', { 'content-type': 'text/plain' }],
      [ID, { ...good, node: 'n2' }, 404, 'chunk_not_found'],
      [ID, { ...good, hash: OTHER }, 404, 'chunk_not_found'],
      [UPLOADING, { ...good, hash: OTHER }, 404, 'content_not_found'],
      [hex(32, 'e'), good, 404, 'content_not_found'],
      ['not-an-id', good, 400, 'bad_request'],
    ];
    for (const [id, body, status, code, headers] of cases) {
      const res = await post(id, body, headers);
      expect([res.status, ((await res.json()) as { error: { code: string } }).error.code], JSON.stringify(body).slice(0, 80)).toEqual([status, code]);
    }
    expect(await reportRows()).toHaveLength(before);
  });
});

describe('GET /contents/:id/reports', () => {
  it('lists the reports to the operator only', async () => {
    expect((await call(`/api/v1/contents/${ID}/reports`)).status).toBe(401);
    const res = await call(`/api/v1/contents/${ID}/reports`, { headers: ADMIN });
    expect(res.status).toBe(200);
    const { reports } = (await res.json()) as { reports: Array<Record<string, unknown>> };
    expect(reports.map((r) => r.code).sort()).toEqual(['integrity_failed', 'stamp_mismatch']);
    expect(reports[0]).toMatchObject({ node: 'n1', index: 1, hash: HASH, at: expect.any(Number) });
  });
});
