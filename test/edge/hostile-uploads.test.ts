// Hostile uploads: what an upload costs must not follow the size it declares. An open of the
// largest file writes as many rows, and takes about as long, as an open of 1 KiB; chunk rows
// appear as chunks are registered, and nowhere else.
import { env, runInDurableObject } from 'cloudflare:test';
import portal from '../../edge/portal/index.ts';
import { beforeAll, describe, expect, it } from 'vitest';
import { MAX_FILE_BYTES, type OpenUploadRequest, type UploadSession } from '../../protocol/api.ts';
import { SEAL_OVERHEAD } from '../../protocol/chunk-crypto.ts';
import { MAX_CHUNK, MIN_CHUNK } from '../../protocol/split.ts';
import { apiFor, bearerOf, envelope, JSON_CT, newProvider, portalCall, registerNode, routeNodes } from './edge-stack.ts';
import { snapshot } from './state-snapshot.ts';

let owner = '';

const stub = (id: string) => env.MANAGER.get(env.MANAGER.idFromName(id));

/** Rows in every table of a manager's SQLite, and of them the chunk rows. */
const rowsOf = (id: string) => runInDurableObject(stub(id), async (_m, state) => {
  const sql = state.storage.sql;
  const tables = sql.exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_%' ESCAPE '\\'").toArray();
  let all = 0;
  for (const { name } of tables) all += sql.exec<{ n: number }>(`SELECT COUNT(*) AS n FROM "${name}"`).one().n;
  return { all, chunks: sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM chunks').one().n };
});

const openRaw = (token: string, req: OpenUploadRequest, e: object = env) =>
  portal.request('http://portal.test/api/v1/uploads', { method: 'POST', headers: { ...bearerOf(token), ...JSON_CT }, body: JSON.stringify(req) }, e);

async function openTimed(req: OpenUploadRequest): Promise<{ session: UploadSession; ms: number }> {
  const t0 = performance.now();
  const res = await openRaw(owner, req);
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
