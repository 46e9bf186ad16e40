// Hostile uploads: what an upload costs must not follow the size it declares. An open of the
// largest file writes as many rows, and takes about as long, as an open of 1 KiB; chunk rows
// appear as chunks are registered, and nowhere else. A provider's open uploads are bounded in
// number and in declared bytes, and a refused open changes nothing. An upload left idle is
// removed by its manager's alarm: every copy on every node, then the catalog entry.
import { env, runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import portal from '../../edge/portal/index.ts';
import { beforeAll, describe, expect, it } from 'vitest';
import { MAX_FILE_BYTES, type OpenUploadRequest, type UploadSession } from '../../protocol/api.ts';
import { SEAL_OVERHEAD } from '../../protocol/chunk-crypto.ts';
import { MAX_CHUNK, MIN_CHUNK } from '../../protocol/split.ts';
import { hashApiToken } from '../../edge/portal/auth.ts';
import { DEADLINE, nodeFetch } from '../../edge/node-client.ts';
import { dueDuty, nextAlarmAt } from '../../edge/manager/schedule.ts';
import type { ContentRecord } from '../../edge/manager/store.ts';
import { uploadDirect } from '../../protocol/upload/direct.ts';
import { UPLOAD_LIMIT_DEFAULTS, uploadLimits } from '../../edge/upload-limits.ts';
import {
  ADMIN_TOKEN, apiFor, bearerOf, cryptoLike, down, envelope, JSON_CT, LIVE, newProvider, portalCall, randomBytes, registerNode, routeNodes, uploadBytes,
} from './edge-stack.ts';
import { snapshot } from './state-snapshot.ts';

let owner = '';

const stub = (id: string) => env.MANAGER.get(env.MANAGER.idFromName(id));

/** Rows in every table of a manager's SQLite, and of them the chunk rows. */
const rowsOf = (id: string) => runInDurableObject(stub(id), async (_m, state) => {
  const sql = state.storage.sql;
  const tables = sql.exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_%' ESCAPE '\\'").toArray();
  const count: Record<string, number> = {};
  for (const { name } of tables) count[name] = sql.exec<{ n: number }>(`SELECT COUNT(*) AS n FROM "${name}"`).one().n;
  return { all: Object.values(count).reduce((a, b) => a + b, 0), chunks: count.chunks ?? 0 };
});

const openRaw = (token: string, req: OpenUploadRequest, e: object = env) =>
  portal.request('http://portal.test/api/v1/uploads', { method: 'POST', headers: { ...bearerOf(token), ...JSON_CT }, body: JSON.stringify(req) }, e);

/** Room for the largest files many times over: these tests are about cost, not quota. */
const roomy = { ...env, UPLOAD_QUOTA_UPLOADS: '10000', UPLOAD_QUOTA_BYTES: String(2 ** 52) };

async function openTimed(req: OpenUploadRequest): Promise<{ session: UploadSession; ms: number }> {
  const t0 = performance.now();
  const res = await openRaw(owner, req, roomy);
  const ms = performance.now() - t0;
  expect(res.status).toBe(201);
  return { session: (await res.json()) as UploadSession, ms };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

beforeAll(async () => {
  routeNodes();
  await registerNode('n1');
  await registerNode('n2');
  owner = await newProvider('uploader');
});

describe('the cost of an open', () => {
  type Chunking = { mode: 'regular'; size: number } | { mode: 'irregular'; min: number; max: number };
  const modes: [string, Chunking][] = [
    ['regular, smallest chunks', { mode: 'regular', size: MIN_CHUNK }],
    ['regular, largest chunks', { mode: 'regular', size: MAX_CHUNK }],
    ['irregular, smallest lengths', { mode: 'irregular', min: MIN_CHUNK, max: MIN_CHUNK + 4096 }],
  ];

  it.each(modes)('%s: rows written are the same from 1 KiB to the largest file, and none is a chunk', async (_label, chunking) => {
    const sizes = [1024, 2 ** 30, 2 ** 40, MAX_FILE_BYTES];
    const rows = [];
    for (const size of sizes) {
      const { session } = await openTimed({ name: 'big.bin', size, replicas: 1, chunking });
      if (chunking.mode === 'regular') expect(session.chunkCount).toBe(Math.ceil(size / chunking.size));
      else expect(session.chunkCount).toBeGreaterThanOrEqual(Math.ceil(size / chunking.max));
      rows.push(await rowsOf(session.id));
    }
    expect(rows.map((r) => r.chunks)).toEqual(sizes.map(() => 0));
    expect(new Set(rows.map((r) => r.all)).size).toBe(1);
  });

  it.each(modes)('%s: the largest file opens about as fast as 1 KiB', async (_label, chunking) => {
    // Interleaved, so that whatever else the machine does weighs on both alike; medians of seven.
    const small: number[] = [];
    const large: number[] = [];
    for (let i = 0; i < 7; i++) {
      small.push((await openTimed({ name: 'a.bin', size: 1024, replicas: 1, chunking })).ms);
      large.push((await openTimed({ name: 'b.bin', size: MAX_FILE_BYTES, replicas: 1, chunking })).ms);
    }
    expect(median(large)).toBeLessThan(5 * median(small));
  });
});

describe('chunk rows', () => {
  it('are written as chunks are registered, anywhere in the plan, and only inside it', async () => {
    const { session } = await openTimed({ name: 'far.bin', size: MAX_FILE_BYTES, replicas: 1, chunking: { mode: 'regular', size: MIN_CHUNK } });
    const last = session.chunkCount - 1;
    const api = apiFor(owner);
    const reg = await api.register(session.id, { chunks: [{ index: last, hash: 'c'.repeat(64), sealedLength: MIN_CHUNK + SEAL_OVERHEAD }] });
    expect(reg.chunks[0].targets).toHaveLength(1);
    expect((await rowsOf(session.id)).chunks).toBe(1);

    const before = await snapshot([session.id]);
    const body = (index: number, sealedLength: number) => JSON.stringify({ chunks: [{ index, hash: 'd'.repeat(64), sealedLength }] });
    const post = (b: string) => portalCall(`/api/v1/uploads/${session.id}/chunks`, { method: 'POST', headers: { ...bearerOf(owner), ...JSON_CT }, body: b });
    expect(await envelope(await post(body(last + 1, MIN_CHUNK + SEAL_OVERHEAD)))).toEqual([400, 'invalid_body']);
    expect(await envelope(await post(body(2 ** 40, MIN_CHUNK + SEAL_OVERHEAD)))).toEqual([400, 'invalid_body']);
    expect(await envelope(await post(body(7, MIN_CHUNK + SEAL_OVERHEAD + 1)))).toEqual([400, 'invalid_body']);
    expect(await snapshot([session.id])).toBe(before);
  });

  it('need not all exist for a commit to count what is missing', async () => {
    const api = apiFor(owner);
    const { session } = await openTimed({ name: 'gaps.bin', size: 4 * MIN_CHUNK - 10, replicas: 1, chunking: { mode: 'regular', size: MIN_CHUNK } });
    await api.register(session.id, { chunks: [{ index: 2, hash: 'e'.repeat(64), sealedLength: MIN_CHUNK + SEAL_OVERHEAD }] });
    const res = await portalCall(`/api/v1/uploads/${session.id}/commit`, { method: 'POST', headers: bearerOf(owner) });
    const body = (await res.json()) as { error: { code: string; message: string; details: { missing: number[] } } };
    expect([res.status, body.error.code]).toEqual([409, 'upload_incomplete']);
    expect(body.error.message).toMatch(/^4 of 4 chunks/);
    expect(body.error.details.missing).toEqual([0, 1, 2, 3]);
  });
});

describe('quotas of open uploads', () => {
  const limited = (over: object) => ({ ...env, ...over });
  const ask = (token: string, size: number, e: object) => openRaw(token, { name: 'q.bin', size, replicas: 1 }, e);

  it('refuse the open past the number of open uploads, and change nothing', async () => {
    const p = await newProvider('counted');
    const e = limited({ UPLOAD_QUOTA_UPLOADS: '2' });
    expect((await ask(p, 10, e)).status).toBe(201);
    expect((await ask(p, 10, e)).status).toBe(201);
    const before = await snapshot();
    const res = await ask(p, 10, e);
    const body = (await res.json()) as { error: { code: string; message: string; details: Record<string, number> } };
    expect([res.status, body.error.code]).toEqual([403, 'quota_exceeded']);
    expect(body.error.message).toMatch(/2 uploads are open/);
    expect(body.error.details).toMatchObject({ openUploads: 2, maxUploads: 2 });
    expect(await snapshot()).toBe(before);
    // Another provider has a quota of its own; the operator has none.
    expect((await ask(await newProvider('neighbour'), 10, e)).status).toBe(201);
    expect((await ask(ADMIN_TOKEN, 10, limited({ UPLOAD_QUOTA_UPLOADS: '1' }))).status).toBe(201);
    expect((await ask(ADMIN_TOKEN, 10, limited({ UPLOAD_QUOTA_UPLOADS: '1' }))).status).toBe(201);
  });

  it('refuse the open past the declared bytes, count only uploads still open, and free a place when one goes', async () => {
    const p = await newProvider('bytes');
    const e = limited({ UPLOAD_QUOTA_BYTES: '1000' });
    const first = (await (await ask(p, 600, e)).json()) as UploadSession;
    const before = await snapshot();
    expect(await envelope(await ask(p, 401, e))).toEqual([403, 'quota_exceeded']);
    expect(await envelope(await ask(p, 1001, e))).toEqual([403, 'quota_exceeded']);
    expect(await snapshot()).toBe(before);
    expect((await ask(p, 400, e)).status).toBe(201); // exactly at the limit
    expect(await envelope(await ask(p, 1, e))).toEqual([403, 'quota_exceeded']);
    // A removed upload is open no more.
    await apiFor(p).remove(first.id);
    expect((await ask(p, 600, e)).status).toBe(201);
  });

  it('let only as many opens through as there is room for, when they arrive together', async () => {
    const p = await newProvider('racing');
    const e = limited({ UPLOAD_QUOTA_UPLOADS: '3' });
    const statuses = await Promise.all(Array.from({ length: 8 }, async () => (await ask(p, 10, e)).status));
    expect(statuses.filter((s) => s === 201)).toHaveLength(3);
    expect(statuses.filter((s) => s === 403)).toHaveLength(5);
    const row = await env.DB.prepare("SELECT COUNT(*) AS n FROM contents c JOIN api_tokens t ON t.provider_id = c.provider_id WHERE t.token_hash = ? AND c.state = 'uploading'")
      .bind(await hashApiToken(p)).first<{ n: number }>();
    expect(row!.n).toBe(3);
  });

  it('come from the vars, with the documented defaults when a var is absent or malformed', () => {
    expect(uploadLimits({})).toEqual({
      maxOpenUploads: UPLOAD_LIMIT_DEFAULTS.UPLOAD_QUOTA_UPLOADS, maxOpenBytes: UPLOAD_LIMIT_DEFAULTS.UPLOAD_QUOTA_BYTES,
      idleMs: UPLOAD_LIMIT_DEFAULTS.UPLOAD_IDLE_SECONDS * 1000,
    });
    expect(uploadLimits({ UPLOAD_QUOTA_UPLOADS: '5', UPLOAD_QUOTA_BYTES: 7, UPLOAD_IDLE_SECONDS: ' 60 ' })).toEqual({ maxOpenUploads: 5, maxOpenBytes: 7, idleMs: 60_000 });
    for (const bad of ['0', '-1', '1.5', 'lots', '1e9', '99999999999999999']) {
      expect(uploadLimits({ UPLOAD_QUOTA_UPLOADS: bad }).maxOpenUploads).toBe(UPLOAD_LIMIT_DEFAULTS.UPLOAD_QUOTA_UPLOADS);
    }
  });
});

describe('abandoned uploads', () => {
  let leaver = ''; // a provider of its own: the opens above fill the first one's quota
  beforeAll(async () => { leaver = await newProvider('leaver'); });
  const IDLE = UPLOAD_LIMIT_DEFAULTS.UPLOAD_IDLE_SECONDS * 1000;
  const alarmOf = (id: string) => runInDurableObject(stub(id), (_m, state) => state.storage.getAlarm());
  /** The manager's clock for this upload: its last progress set `ago` ms back. */
  const idleFor = (id: string, ago: number) => runInDurableObject(stub(id), (_m, state) => {
    state.storage.sql.exec("INSERT OR REPLACE INTO meta (k, v) VALUES ('active', ?)", String(Date.now() - ago));
  });
  const catalogState = async (id: string) =>
    (await env.DB.prepare('SELECT state FROM contents WHERE id = ?').bind(id).first<{ state: string }>())?.state ?? null;
  async function copies(id: string): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const [node, bucket] of Object.entries(LIVE)) {
      const page = await bucket.list({ include: ['customMetadata'] });
      out[node] = page.objects.filter((o) => o.customMetadata?.content === id).length;
    }
    return out;
  }
  const kinds = async (id: string) =>
    (await env.DB.prepare('SELECT kind FROM events WHERE content_id = ? ORDER BY id').bind(id).all<{ kind: string }>()).results.map((r) => r.kind);

  /** Opens an upload of three chunks on both nodes and sends the first two, then stops. */
  async function halfUploaded(): Promise<string> {
    const api = apiFor(leaver);
    const bytes = randomBytes(3 * MIN_CHUNK);
    const session = await api.openUpload({ name: 'left.bin', size: bytes.length, replicas: 2, chunking: { mode: 'regular', size: MIN_CHUNK } });
    await expect(uploadDirect({
      api, session, crypto: cryptoLike, fetch: (u, i) => fetch(u, i), batchSize: 1, parallelBatches: 1,
      read: async (o, l) => { if (o >= 2 * MIN_CHUNK) throw new Error('the uploader went away'); return bytes.subarray(o, o + l); },
    })).rejects.toThrow('went away');
    expect(await copies(session.id)).toMatchObject({ n1: 2, n2: 2 });
    return session.id;
  }

  it('are removed by the alarm: every copy on every node, then the catalog entry, with an event', async () => {
    const id = await halfUploaded();
    const due = (await alarmOf(id))!;
    expect(due).toBeGreaterThan(Date.now() + IDLE - 60_000); // set from the last progress
    await idleFor(id, IDLE + 1000);
    expect(await runDurableObjectAlarm(stub(id))).toBe(true);
    expect(await copies(id)).toEqual({ n1: 0, n2: 0, n4: 0 });
    expect(await catalogState(id)).toBeNull();
    const k = await kinds(id);
    expect(k).toContain('upload-abandoned');
    expect(k.at(-1)).toBe('content-deleted');
    expect(await alarmOf(id)).toBeNull();
    expect((await rowsOf(id)).all).toBe(0);
    expect(await envelope(await portalCall(`/api/v1/uploads/${id}`, { headers: bearerOf(leaver) }))).toEqual([404, 'content_not_found']);
  });

  it('are retried by the alarm while a node does not answer, and removed once it does', async () => {
    const id = await halfUploaded();
    await idleFor(id, IDLE + 1000);
    down.add('n2');
    try {
      expect(await runDurableObjectAlarm(stub(id))).toBe(true);
      expect(await copies(id)).toMatchObject({ n1: 0, n2: 2 });
      expect(await catalogState(id)).toBe('deleting');
      expect(await alarmOf(id)).not.toBeNull();
      // Still deleting: no upload call reaches it, and it is no longer counted as open.
      expect(await envelope(await portalCall(`/api/v1/uploads/${id}/commit`, { method: 'POST', headers: bearerOf(leaver) }))).toEqual([409, 'conflict']);
    } finally {
      down.delete('n2');
    }
    expect(await runDurableObjectAlarm(stub(id))).toBe(true);
    expect(await copies(id)).toEqual({ n1: 0, n2: 0, n4: 0 });
    expect(await catalogState(id)).toBeNull();
  });

  it('live on while they make progress, and a committed content is never one', async () => {
    const id = await halfUploaded();
    await idleFor(id, IDLE - 3_600_000);
    expect(await runDurableObjectAlarm(stub(id))).toBe(true);
    expect(await catalogState(id)).toBe('uploading');
    const due = (await alarmOf(id))!;
    expect(due).toBeGreaterThan(Date.now() + 3_500_000);
    expect(due).toBeLessThanOrEqual(Date.now() + 3_600_000);
    expect(await copies(id)).toMatchObject({ n1: 2, n2: 2 });

    const done = await uploadBytes(leaver, randomBytes(100_000));
    await idleFor(done, 10 * IDLE);
    await runDurableObjectAlarm(stub(done));
    expect(await catalogState(done)).toBe('committed');
    expect(await alarmOf(done)).toBeNull();
  });

  it('are due from the last progress, only while uploading', () => {
    const rec = (state: string) => ({ state }) as ContentRecord;
    // The manager passes the idle due time only while the content is uploading.
    expect(nextAlarmAt(rec('uploading'), 5, null, null, 100)).toBe(100);
    expect(nextAlarmAt(rec('uploading'), 5, 50, null, 100)).toBe(50);
    expect(dueDuty(rec('uploading'), 99, 100)).toBeNull();
    expect(dueDuty(rec('uploading'), 100, 100)).toBe('abandoned');
    expect(dueDuty(rec('committed'), 100, 100)).toBeNull();
    expect(dueDuty(rec('deleting'), 100, 100)).toBe('retry-delete');
  });

  it('are removed with a deadline on every node call, so a node that never answers cannot hold the alarm', async () => {
    let seen: AbortSignal | undefined;
    const silent = ((_u: RequestInfo | URL, i?: RequestInit) => new Promise<Response>((_, reject) => {
      seen = i?.signal ?? undefined;
      i?.signal?.addEventListener('abort', () => reject(i.signal!.reason));
    })) as typeof fetch;
    const node = { id: 'n9', url: 'http://n9.node.test' };
    await expect(nodeFetch({ fetch: silent }, node, `${node.url}/v1/chunks/delete`, { method: 'POST' }, 20))
      .rejects.toMatchObject({ code: 'node_unreachable' });
    expect(seen?.aborted).toBe(true);
    expect(DEADLINE.call).toBeGreaterThan(0);
  });
});
