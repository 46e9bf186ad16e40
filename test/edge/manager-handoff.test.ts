// Managers that move (claim 7) inside workerd, end to end through the portal: a content's manager
// hands its state to a new object in another region; manifests, grants, info, delete, uploads in
// direct and gateway mode keep working across the move; the old object forwards, then empties;
// a hand-off that fails at any step leaves exactly one manager in charge; two at once, one wins.
import { env, runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import type { MoveManagerResponse } from '../../protocol/api.ts';
import type { Manifest } from '../../protocol/manifest.ts';
import { uploadDirect } from '../../protocol/upload/direct.ts';
import { stubByName } from '../../edge/manager/home.ts';
import { hintFromCf } from '../../edge/portal/manager-region.ts';
import type { ContentManager } from '../../edge/manager/content-manager.ts';
import {
  ADMIN_TOKEN, apiFor, bearerOf, cryptoLike, down, envelope, JSON_CT, newProvider, portalCall, randomBytes, registerNode, routeNodes, uploadBytes,
} from './edge-stack.ts';

const CHUNK = 65536;
const admin = { ...bearerOf(ADMIN_TOKEN), ...JSON_CT };
let owner = '';

const move = (id: string, region: unknown, headers: Record<string, string> = admin) =>
  portalCall(`/api/v1/contents/${id}/manager`, { method: 'POST', headers, body: JSON.stringify({ region }) });
const object = (name: string) => stubByName(env as never, name);
const row = (id: string) => env.DB.prepare('SELECT manager, manager_region FROM contents WHERE id = ?').bind(id).first<{ manager: string | null; manager_region: string | null }>();
const moves = async (id: string) => (await env.DB.prepare("SELECT detail FROM events WHERE kind = 'manager-moved' AND content_id = ? ORDER BY id")
  .bind(id).all<{ detail: string }>()).results.map((r) => JSON.parse(r.detail) as { from: string; to: string; region: string; reason: string });

/** What an object holds: a content record, a forwarding mark, an imported copy waiting, rows of content state, an alarm. */
async function holding(name: string) {
  return runInDurableObject(object(name), async (_m: ContentManager, state) => {
    const sql = state.storage.sql;
    const tables = sql.exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_cf\\_%' ESCAPE '\\'").toArray();
    // deleteAll drops the tables themselves: an object deleted that way holds nothing.
    const hasMeta = tables.some((t) => t.name === 'meta');
    const meta = (k: string) => (hasMeta ? sql.exec<{ v: string }>('SELECT v FROM meta WHERE k = ?', k).toArray()[0]?.v ?? null : null);
    let rows = 0;
    for (const t of tables) rows += sql.exec<{ n: number }>(`SELECT COUNT(*) AS n FROM ${t.name}`).one().n;
    const forward = meta('forward');
    return { record: meta('record') !== null, forward: forward ? (JSON.parse(forward) as { to: string }).to : null, standby: meta('standby'), rows, alarm: await state.storage.getAlarm() };
  });
}

/**
 * Exactly one object is in charge: the one the registry names, or the one the named object
 * forwards to; it holds the record and forwards nowhere, and the other holds no content state.
 */
async function inCharge(id: string, names: string[]): Promise<string> {
  const r = await row(id);
  const named = r!.manager ?? id;
  const named_ = await holding(named);
  const charge = named_.forward ?? named;
  const held = await holding(charge);
  expect(held.record).toBe(true);
  expect(held.forward).toBeNull();
  for (const n of names.filter((x) => x !== charge)) {
    const h = await holding(n);
    // no record of its own (a forwarding mark at most), or an imported copy that is not complete
    if (h.record) expect(JSON.parse(h.standby ?? '{}').complete).toBe(false);
  }
  return charge;
}

beforeAll(async () => {
  routeNodes();
  for (const id of ['n1', 'n2'] as const) await registerNode(id);
  owner = await newProvider();
});

describe('managers that move', { timeout: 120_000 }, () => {
  it('makes a new upload\'s manager where it is asked, and says so in the registry and in info', async () => {
    const api = apiFor(owner);
    const s = await api.openUpload({ name: 'a.bin', size: 10, replicas: 1, region: 'apac' });
    expect(await row(s.id)).toEqual({ manager: s.id, manager_region: 'apac' });
    expect((await api.info(s.id)).manager).toEqual({ name: s.id, region: 'apac' });
    const res = await portalCall('/api/v1/uploads', { method: 'POST', headers: { ...bearerOf(owner), ...JSON_CT, 'x-bunsan-region': 'oc' }, body: JSON.stringify({ name: 'b.bin', size: 10, replicas: 1 }) });
    expect(res.status).toBe(201);
    expect((await row(((await res.json()) as { id: string }).id))!.manager_region).toBe('oc');
    const bad = await portalCall('/api/v1/uploads', { method: 'POST', headers: { ...bearerOf(owner), ...JSON_CT, 'x-bunsan-region': 'mars' }, body: JSON.stringify({ name: 'c.bin', size: 10, replicas: 1 }) });
    expect(await envelope(bad)).toEqual([400, 'bad_request']);
  });

  it('maps where the platform says a request comes from onto its location hints', () => {
    expect(hintFromCf({ continent: 'NA', longitude: '-122.4' })).toBe('wnam');
    expect(hintFromCf({ continent: 'NA', longitude: '-74.0' })).toBe('enam');
    expect(hintFromCf({ continent: 'EU', longitude: '2.35' })).toBe('weur');
    expect(hintFromCf({ continent: 'EU', longitude: '37.6' })).toBe('eeur');
    expect(hintFromCf({ continent: 'AS', country: 'AE' })).toBe('me');
    expect(hintFromCf({ continent: 'AS', country: 'JP' })).toBe('apac');
    expect(hintFromCf({ continent: 'SA' })).toBe('sam');
    expect(hintFromCf({ continent: 'OC' })).toBe('oc');
    expect(hintFromCf({ continent: 'AF' })).toBe('afr');
    expect(hintFromCf({ continent: 'AN' })).toBeNull();
    expect(hintFromCf(undefined)).toBeNull();
  });

  it('hands a committed content over: manifest, grants, info and delete work after; the old object forwards, then empties', async () => {
    const bytes = randomBytes(6 * CHUNK);
    const id = await uploadBytes(owner, bytes, { replicas: 2, visibility: 'private' });
    const api = apiFor(owner);
    const before = await api.manifest(id);
    const kept = await api.grant(id, 3600);
    const dropped = await api.grant(id, 3600);
    expect((await api.info(id)).manager).toEqual({ name: id, region: null });

    const res = await move(id, 'weur');
    expect(res.status).toBe(200);
    const r = (await res.json()) as MoveManagerResponse;
    expect(r).toEqual({ moved: true, from: id, to: `${id}.1`, region: 'weur', reason: 'operator' });
    expect(await row(id)).toEqual({ manager: `${id}.1`, manager_region: 'weur' });
    expect(await moves(id)).toEqual([{ from: id, to: `${id}.1`, region: 'weur', reason: 'operator' }]);
    expect(await inCharge(id, [id, `${id}.1`])).toBe(`${id}.1`);

    // Grants issued before the move stay valid; a revoke after it holds.
    const viewer = apiFor();
    expect((await viewer.manifest(id, kept.grant)).chunks.map((c) => c.hash)).toEqual(before.chunks.map((c) => c.hash));
    await api.revokeGrant(id, dropped.id);
    await expect(viewer.manifest(id, dropped.grant)).rejects.toMatchObject({ code: 'grant_revoked' });
    expect((await viewer.manifest(id, kept.grant)).id).toBe(id);
    expect((await api.info(id)).manager).toEqual({ name: `${id}.1`, region: 'weur' });

    // A call resolved to the old object before the switch is forwarded to the new one.
    const viaOld = await object(id).info({ providerId: 'operator', admin: true });
    expect('ok' in viaOld && viaOld.ok.manager).toEqual({ name: `${id}.1`, region: 'weur' });
    expect(await object(id).wants(before.chunks[0].hash, before.chunks[0].nodes[0])).toBe(true);

    // The forwarding window ends (its end brought forward here): the old object's alarm deletes it all.
    const old = await holding(id);
    expect(old).toMatchObject({ record: false, forward: `${id}.1` });
    expect(old.alarm).not.toBeNull();
    await runInDurableObject(object(id), async (_m: ContentManager, state) => {
      state.storage.sql.exec("UPDATE meta SET v = json_set(v, '$.until', 0) WHERE k = 'forward'");
    });
    await runDurableObjectAlarm(object(id));
    await runInDurableObject(object(id), async (_m: ContentManager, state) => {
      const tables = state.storage.sql.exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_cf\\_%' ESCAPE '\\'").toArray();
      for (const t of tables) expect(state.storage.sql.exec<{ n: number }>(`SELECT COUNT(*) AS n FROM ${t.name}`).one().n).toBe(0);
      expect(await state.storage.getAlarm()).toBeNull();
    });

    // And the content is deleted through its new manager: every replica, then the catalog entry.
    expect((await api.remove(id)).state).toBe('deleted');
    expect(await row(id)).toBeNull();
    expect(await holding(`${id}.1`)).toMatchObject({ record: false, rows: 0, alarm: null });
  });

  it('moves during a direct upload (between two batches of chunks) and during a gateway upload', async () => {
    const bytes = randomBytes(12 * CHUNK);
    const api = apiFor(owner);
    const session = await api.openUpload({ name: 'd.bin', size: bytes.length, replicas: 2, chunking: { mode: 'regular', size: CHUNK } });
    let moved: Response | null = null;
    await uploadDirect({
      api, session, crypto: cryptoLike, fetch: (u, i) => fetch(u, i), read: async (o, l) => {
        if (o >= 5 * CHUNK && !moved) moved = await move(session.id, 'eeur');
        return bytes.subarray(o, o + l);
      },
    });
    expect(moved!.status).toBe(200);
    await api.commit(session.id);
    expect((await row(session.id))!.manager).toBe(`${session.id}.1`);
    const m = await api.manifest(session.id);
    expect(m.chunks).toHaveLength(12);
    expect(m.chunks.every((c) => c.nodes.length === 2)).toBe(true);

    const g = await api.openUpload({ name: 'g.bin', size: bytes.length, replicas: 1, chunking: { mode: 'regular', size: CHUNK } });
    const put = (from: number, body: Uint8Array) =>
      portalCall(`/api/v1/uploads/${g.id}/data?from=${from}`, { method: 'PUT', headers: { ...bearerOf(owner), 'content-type': 'application/octet-stream' }, body: body as BodyInit });
    expect((await put(0, bytes.subarray(0, 4 * CHUNK))).status).toBe(200);
    expect((await move(g.id, 'sam')).status).toBe(200);
    expect((await put(4, bytes.subarray(4 * CHUNK))).status).toBe(200);
    expect((await api.commit(g.id)).id).toBe(g.id);
    expect((await api.manifest(g.id)).chunks).toHaveLength(12);
    expect(await inCharge(g.id, [g.id, `${g.id}.1`])).toBe(`${g.id}.1`);
  });

  it('a hand-off that fails at any step leaves exactly one manager in charge, and a retry completes it', async () => {
    const id = await uploadBytes(owner, randomBytes(4 * CHUNK), { replicas: 1 });
    const names = [id, `${id}.1`];

    // 1. The new object refuses the import (it is in charge of something already): nothing changes.
    await runInDurableObject(object(`${id}.1`), async (_m: ContentManager, state) => {
      state.storage.sql.exec("INSERT INTO meta (k, v) VALUES ('record', '{}')");
    });
    expect(await envelope(await move(id, 'weur'))).toEqual([409, 'conflict']);
    expect(await row(id)).toEqual({ manager: id, manager_region: null });
    expect((await holding(id)).forward).toBeNull();
    await runInDurableObject(object(`${id}.1`), async (_m: ContentManager, state) => {
      state.storage.sql.exec("DELETE FROM meta WHERE k = 'record'");
    });

    // 2. The import breaks half-way (a table the new object does not have): its partial copy is discarded.
    await runInDurableObject(object(id), async (_m: ContentManager, state) => {
      state.storage.sql.exec('CREATE TABLE extra (x INTEGER); INSERT INTO extra VALUES (1)');
    });
    expect(await envelope(await move(id, 'weur'))).toEqual([409, 'conflict']);
    expect(await row(id)).toEqual({ manager: id, manager_region: null });
    expect(await inCharge(id, names)).toBe(id);
    expect(await holding(`${id}.1`)).toMatchObject({ record: false, standby: null, rows: 0 });
    expect((await apiFor(owner).manifest(id)).id).toBe(id);
    await runInDurableObject(object(id), async (_m: ContentManager, state) => {
      state.storage.sql.exec('DROP TABLE extra');
    });

    // 3. The old object hands over but the portal never switches the registry (it died): the old
    //    forwards, so requests reach the new one; the old object's alarm makes the switch.
    const step = await object(id).handOff({ region: 'weur', reason: 'test' });
    expect(step).toEqual({ ok: { moved: true, from: id, to: `${id}.1`, region: 'weur', reason: 'test' } });
    expect(await row(id)).toEqual({ manager: id, manager_region: null });
    expect(await inCharge(id, names)).toBe(`${id}.1`);
    expect((await apiFor(owner).manifest(id)).id).toBe(id);
    expect(await moves(id)).toEqual([]);
    await runDurableObjectAlarm(object(id));
    expect(await row(id)).toEqual({ manager: `${id}.1`, manager_region: 'weur' });
    expect(await moves(id)).toEqual([{ from: id, to: `${id}.1`, region: 'weur', reason: 'test' }]);
    expect(await inCharge(id, names)).toBe(`${id}.1`);
    // Asked again, the old object says where it went and moves nothing.
    expect(await object(id).handOff({ region: 'apac', reason: 'again' })).toMatchObject({ ok: { moved: false, to: `${id}.1` } });
  });

  it('two hand-offs at once: one wins', async () => {
    const id = await uploadBytes(owner, randomBytes(3 * CHUNK), { replicas: 1 });
    const answers = await Promise.all([move(id, 'afr'), move(id, 'afr')]);
    expect(answers.map((a) => a.status).sort()).toEqual([200, 409]);
    expect(await row(id)).toEqual({ manager: `${id}.1`, manager_region: 'afr' });
    expect(await moves(id)).toHaveLength(1);

    // The objects themselves, asked for two different regions at once: one moves, the other is told where it went.
    const steps = await Promise.all([object(`${id}.1`).handOff({ region: 'me', reason: 'a' }), object(`${id}.1`).handOff({ region: 'oc', reason: 'b' })]);
    const oks = steps.map((s) => ('ok' in s ? s.ok : null));
    expect(oks.filter((s) => s?.moved)).toHaveLength(1);
    expect(oks.every((s) => s?.to === `${id}.2`)).toBe(true);
    expect(await inCharge(id, [id, `${id}.1`, `${id}.2`])).toBe(`${id}.2`);
  });

  it('answers bad moves with clear envelopes and changes nothing', async () => {
    const id = await uploadBytes(owner, randomBytes(2 * CHUNK), { replicas: 1 });
    expect(await envelope(await move(id, 'mars'))).toEqual([400, 'invalid_body']);
    expect(await envelope(await move(id, undefined))).toEqual([400, 'invalid_body']);
    expect(await envelope(await move('f'.repeat(32), 'weur'))).toEqual([404, 'content_not_found']);
    expect(await envelope(await move('nope', 'weur'))).toEqual([400, 'bad_request']);
    expect(await envelope(await move(id, 'weur', { ...bearerOf(owner), ...JSON_CT }))).toEqual([403, 'forbidden']);
    expect(await envelope(await move(id, 'weur', JSON_CT))).toEqual([401, 'unauthorized']);
    expect(await row(id)).toEqual({ manager: id, manager_region: null });

    expect((await move(id, 'weur')).status).toBe(200);
    const again = await move(id, 'weur');
    expect(await envelope(again.clone())).toEqual([409, 'conflict']);
    expect(((await again.json()) as { error: { message: string } }).error.message).toMatch(/already in weur/);

    // Being deleted (a node holding a copy is down, so the delete waits): the manager stays.
    const m = (await apiFor(owner).manifest(id)) as Manifest;
    const holder = m.chunks[0].nodes[0];
    down.add(holder);
    try {
      expect((await apiFor(owner).remove(id)).state).toBe('deleting');
      expect(await envelope(await move(id, 'apac'))).toEqual([409, 'conflict']);
      expect(await row(id)).toEqual({ manager: `${id}.1`, manager_region: 'weur' });
    } finally {
      down.delete(holder);
    }
  });
});
