// Everything an edge test can read back: every D1 table, every object (and its metadata) in
// both node buckets, and the SQLite of the named managers. Two equal snapshots mean a request
// changed nothing.
import { env, runInDurableObject } from 'cloudflare:test';

const TABLES = ['nodes', 'providers', 'api_tokens', 'contents', 'placements', 'events'];

async function bucket(b: R2Bucket): Promise<unknown[]> {
  const out: unknown[] = [];
  let cursor: string | undefined;
  do {
    const page = await b.list({ cursor, include: ['customMetadata'] });
    for (const o of page.objects) out.push([o.key, o.etag, o.size, o.customMetadata]);
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
  return out;
}

async function manager(id: string): Promise<unknown> {
  const stub = env.MANAGER.get(env.MANAGER.idFromName(id));
  return runInDurableObject(stub, async (_o, state) => {
    const tables = state.storage.sql.exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_%' ESCAPE '\\' ORDER BY name").toArray();
    const dump: Record<string, unknown[]> = {};
    for (const { name } of tables) dump[name] = state.storage.sql.exec(`SELECT * FROM "${name}"`).toArray();
    return { dump, alarm: await state.storage.getAlarm() };
  });
}

export async function snapshot(contentIds: string[] = []): Promise<string> {
  const d1: Record<string, unknown[]> = {};
  for (const t of TABLES) d1[t] = (await env.DB.prepare(`SELECT * FROM ${t} ORDER BY rowid`).all()).results;
  const managers: Record<string, unknown> = {};
  for (const id of contentIds) managers[id] = await manager(id);
  return JSON.stringify({ d1, r2: { n1: await bucket(env.BUCKET), n2: await bucket(env.BUCKET2), n4: await bucket(env.BUCKET3) }, managers });
}
