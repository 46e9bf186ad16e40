// The publish/expire window signed into the upload stamp: no manifest (no keys) before
// publishAt or after expireAt, and at expireAt the manager's alarm deletes the content
// everywhere by the same flow as rm. One alarm serves both retention and the delete retry.
import { env, runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import { importPublicKey, openEnvelope } from '../../protocol/signing.ts';
import { UploadStamp } from '../../protocol/stamps.ts';
import { DELETE_RETRY_MS, dueDuty, nextAlarmAt } from '../../edge/manager/schedule.ts';
import type { ContentRecord } from '../../edge/manager/store.ts';
import {
  ADMIN_TOKEN, apiFor, bearerOf, down, envelope, JSON_CT, LIVE, newProvider, portalCall, randomBytes, registerNode, routeNodes, uploadBytes,
} from './edge-stack.ts';
import { snapshot } from './state-snapshot.ts';

let owner = '';
const stub = (id: string) => env.MANAGER.get(env.MANAGER.idFromName(id));
const alarmOf = (id: string) => runInDurableObject(stub(id), (_o, s) => s.storage.getAlarm());
const manifest = (id: string, headers: Record<string, string> = {}) => portalCall(`/api/v1/contents/${id}/manifest`, { headers });
const objects = async (content: string) => {
  let n = 0;
  for (const b of Object.values(LIVE)) n += (await b.list({ include: ['customMetadata'] })).objects.filter((o) => o.customMetadata?.content === content).length;
  return n;
};

beforeAll(async () => {
  routeNodes();
  await registerNode('n1');
  await registerNode('n2');
  owner = await newProvider();
});

describe('the window', () => {
  it('is signed into the upload stamp', async () => {
    const publishAt = Date.now() + 3_600_000;
    const expireAt = publishAt + 3_600_000;
    const id = await uploadBytes(owner, randomBytes(1000), { publishAt, expireAt });
    const s = await apiFor(owner).session(id);
    const stamp = await openEnvelope(crypto, await importPublicKey(crypto, env.SIGNING_PUBLIC_KEY), s.stamp, UploadStamp);
    expect([stamp.publishAt, stamp.expireAt]).toEqual([publishAt, expireAt]);
    expect([s.publishAt, s.expireAt]).toEqual([publishAt, expireAt]);
    const row = await env.DB.prepare('SELECT publish_at, expire_at FROM contents WHERE id = ?').bind(id).first();
    expect(row).toEqual({ publish_at: publishAt, expire_at: expireAt });
  });

  it('keeps keys from viewers before publishAt, but not from the owner or the operator', async () => {
    const id = await uploadBytes(owner, randomBytes(1000), { publishAt: Date.now() + 3_600_000 });
    const before = await snapshot([id]);
    expect(await envelope(await manifest(id))).toEqual([403, 'not_published']);
    expect(await snapshot([id])).toBe(before);
    expect((await manifest(id, bearerOf(owner))).status).toBe(200);
    expect((await manifest(id, bearerOf(ADMIN_TOKEN))).status).toBe(200);
    const listed = ((await (await portalCall('/api/v1/contents')).json()) as { contents: { id: string }[] }).contents.map((c) => c.id);
    expect(listed).not.toContain(id);
  });

  it('releases keys once publishAt has passed', async () => {
    const publishAt = Date.now() + 1500;
    const id = await uploadBytes(owner, randomBytes(1000), { publishAt });
    expect(await envelope(await manifest(id))).toEqual([403, 'not_published']);
    await new Promise((r) => setTimeout(r, publishAt - Date.now() + 20));
    expect((await manifest(id)).status).toBe(200);
  });

  it('refuses a window that is over before it starts, or already over', async () => {
    for (const w of [{ publishAt: 2000, expireAt: 1000 }, { expireAt: Date.now() - 1 }, { expireAt: -1 }, { publishAt: 1.5 }]) {
      const res = await portalCall('/api/v1/uploads', { method: 'POST', headers: { ...bearerOf(owner), ...JSON_CT }, body: JSON.stringify({ name: 'x', size: 1, ...w }) });
      expect(await envelope(res), JSON.stringify(w)).toEqual([400, 'invalid_body']);
    }
  });
});

describe('retention', () => {
  it('deletes the content everywhere when expireAt passes, like rm', async () => {
    const expireAt = Date.now() + 4000;
    const id = await uploadBytes(owner, randomBytes(200_000), { expireAt, replicas: 2 });
    expect(await alarmOf(id)).toBe(expireAt);
    expect(await objects(id)).toBe(8); // 4 chunks x 2 replicas
    expect((await manifest(id)).status).toBe(200);
    await new Promise((r) => setTimeout(r, Math.max(0, expireAt - Date.now())));
    // Past expireAt no key is released, even before the alarm has run.
    expect((await envelope(await manifest(id, bearerOf(owner))))[0]).toBeOneOf([410, 404]);
    for (let i = 0; i < 50 && (await env.DB.prepare('SELECT id FROM contents WHERE id = ?').bind(id).first()); i++) {
      await runDurableObjectAlarm(stub(id));
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(await env.DB.prepare('SELECT id FROM contents WHERE id = ?').bind(id).first()).toBeNull();
    expect(await objects(id)).toBe(0);
    expect((await env.DB.prepare('SELECT COUNT(*) AS n FROM placements WHERE content_id = ?').bind(id).first<{ n: number }>())!.n).toBe(0);
    const kinds = (await env.DB.prepare('SELECT kind FROM events WHERE content_id = ? ORDER BY id').bind(id).all<{ kind: string }>()).results.map((r) => r.kind);
    expect(kinds).toContain('content-expired');
    expect(kinds.at(-1)).toBe('content-deleted');
    expect(await envelope(await manifest(id))).toEqual([404, 'content_not_found']);
  });

  it('shares the one alarm with the delete retry, which comes first and keeps retention', async () => {
    const expireAt = Date.now() + 3_600_000;
    const id = await uploadBytes(owner, randomBytes(200_000), { expireAt, replicas: 2 });
    expect(await alarmOf(id)).toBe(expireAt);
    down.add('n2');
    try {
      const rm = await portalCall(`/api/v1/contents/${id}`, { method: 'DELETE', headers: bearerOf(owner) });
      expect(rm.status).toBe(202);
      const retryAt = await alarmOf(id);
      expect(retryAt).toBeGreaterThan(Date.now());
      expect(retryAt).toBeLessThanOrEqual(Date.now() + DELETE_RETRY_MS);
      // The retry with the node still down keeps the content deleting and the alarm set.
      expect(await runDurableObjectAlarm(stub(id))).toBe(true);
      expect((await env.DB.prepare('SELECT state FROM contents WHERE id = ?').bind(id).first<{ state: string }>())!.state).toBe('deleting');
      expect(await alarmOf(id)).not.toBeNull();
    } finally {
      down.delete('n2');
    }
    expect(await runDurableObjectAlarm(stub(id))).toBe(true);
    expect(await env.DB.prepare('SELECT id FROM contents WHERE id = ?').bind(id).first()).toBeNull();
    expect(await objects(id)).toBe(0);
  });

  it('computes the next wake-up from the record alone', () => {
    const rec = (over: Partial<ContentRecord>) => ({ state: 'committed', ...over }) as ContentRecord;
    expect(nextAlarmAt(null, 5)).toBeNull();
    expect(nextAlarmAt(rec({}), 5)).toBeNull();
    expect(nextAlarmAt(rec({ expireAt: 100 }), 5)).toBe(100);
    expect(nextAlarmAt(rec({ expireAt: 100 }), 500)).toBe(500);
    expect(nextAlarmAt(rec({ state: 'deleting', expireAt: 1e12 }), 5)).toBe(5 + DELETE_RETRY_MS);
    expect(dueDuty(rec({ expireAt: 100 }), 99)).toBeNull();
    expect(dueDuty(rec({ expireAt: 100 }), 100)).toBe('expire');
    expect(dueDuty(rec({ state: 'deleting' }), 0)).toBe('retry-delete');
  });
});
