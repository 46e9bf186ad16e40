// Self-hosted nodes at the portal: invitations (one use, expiring, operator only), joining with
// a proof of the node's own key, and the signed reports and drain requests that follow — each
// refused when replayed, expired, or signed with another key.
import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { getNode, lastReportAt, silentSelfHostedNodes } from '../../edge/registry/nodes.ts';
import type { NodeReport } from '../../protocol/self-hosted/messages.ts';
import { generateSigningKeyPair, importPrivateKey, signEnvelope } from '../../protocol/signing.ts';
import { ADMIN_TOKEN, bearerOf, cryptoLike, envelope, JSON_CT, portalCall, randomBytes } from './edge-stack.ts';
import { toHex } from '../../protocol/bytes.ts';

const post = async (path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> =>
  portalCall(`/api/v1${path}`, { method: 'POST', headers: { ...JSON_CT, ...headers }, body: JSON.stringify(body) });

async function invite(body: Record<string, unknown> = {}): Promise<string> {
  const res = await post('/node-invites', body, bearerOf(ADMIN_TOKEN));
  expect(res.status).toBe(201);
  return ((await res.json()) as { token: string }).token;
}

interface Identity { publicKey: string; key: CryptoKey }
async function identity(): Promise<Identity> {
  const pair = await generateSigningKeyPair(cryptoLike);
  return { publicKey: pair.publicKey, key: await importPrivateKey(cryptoLike, pair.privateKey) };
}

const exp = (s = 300) => Math.floor(Date.now() / 1000) + s;

async function join(token: string, me: Identity, over: Record<string, unknown> = {}, signer = me.key) {
  const proof = await signEnvelope(cryptoLike, signer, {
    t: 'join', k: me.publicKey, url: 'http://192.0.2.7:9000', capacity: 1_000_000, version: 'test', at: Date.now(), exp: exp(), ...over,
  });
  return post('/node-joins', { token, proof });
}

async function joined(over: Record<string, unknown> = {}): Promise<{ id: string; me: Identity }> {
  const me = await identity();
  const res = await join(await invite(over), me);
  expect(res.status).toBe(201);
  return { id: ((await res.json()) as { id: string }).id, me };
}

let clock = Date.now();
const report = (id: string, over: Partial<NodeReport> = {}): NodeReport => ({
  t: 'report', n: id, at: ++clock, exp: exp(), capacity: 1_000_000, held: 4096, chunks: 1, free: 900_000, served: 12345,
  version: 'test', corrupt: [], ...over,
});
const sendSigned = async (path: string, msg: object, key: CryptoKey) => post(path, {}, bearerOf(await signEnvelope(cryptoLike, key, msg)));

describe('invitations and joining', () => {
  it('lets only the operator invite, and keeps only the token\'s digest', async () => {
    expect((await post('/node-invites', {})).status).toBe(401);
    const token = await invite({ region: 'eu', grade: 3, capacity: 5_000_000, ttlSeconds: 600 });
    expect(token).toMatch(/^bnj_/);
    const rows = await env.DB.prepare('SELECT * FROM node_invites').all<Record<string, unknown>>();
    expect(JSON.stringify(rows.results)).not.toContain(token);
    const bad = await post('/node-invites', { ttlSeconds: 10 }, bearerOf(ADMIN_TOKEN));
    expect(await envelope(bad)).toEqual([400, 'invalid_body']);
  });

  it('creates the node as joining with its key, the invitation\'s region and grade, and the smaller capacity', async () => {
    const me = await identity();
    const res = await join(await invite({ region: 'eu', grade: 3, capacity: 500_000 }), me);
    expect(res.status).toBe(201);
    const body = (await res.json()) as { id: string; signingPublicKey: string; state: string; capacity: number };
    expect(body).toMatchObject({ signingPublicKey: env.SIGNING_PUBLIC_KEY, state: 'joining', region: 'eu', grade: 3, capacity: 500_000 });
    const row = await getNode(env.DB, body.id);
    expect(row).toMatchObject({ state: 'joining', url: 'http://192.0.2.7:9000', public_key: me.publicKey, region: 'eu', grade: 3, capacity: 500_000 });
  });

  it('refuses a used, unknown or expired token, and a proof not signed by the key it names', async () => {
    const token = await invite();
    expect((await join(token, await identity())).status).toBe(201);
    expect(await envelope(await join(token, await identity()))).toEqual([409, 'conflict']);
    expect(await envelope(await join('bnj_nothing', await identity()))).toEqual([401, 'token_invalid']);
    const old = await invite();
    await env.DB.prepare('UPDATE node_invites SET expires_at = ?').bind(Date.now() - 1).run();
    expect(await envelope(await join(old, await identity()))).toEqual([401, 'token_expired']);
    const fresh = await invite();
    const me = await identity();
    const other = await identity();
    expect(await envelope(await join(fresh, me, {}, other.key))).toEqual([401, 'token_invalid']);
    expect(await envelope(await join(fresh, me, { exp: exp(-10) }))).toEqual([401, 'token_expired']);
    // the refused attempts left the invitation usable
    expect((await join(fresh, me)).status).toBe(201);
  });
});

describe('signed reports and drain requests', () => {
  it('records a report signed by the node\'s key on its row', async () => {
    const { id, me } = await joined();
    expect(await lastReportAt(env.DB, id)).toBeNull();
    const before = Date.now();
    const res = await sendSigned('/node-reports', report(id), me.key);
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ accepted: true, state: 'joining' });
    expect(await getNode(env.DB, id)).toMatchObject({
      report_capacity: 1_000_000, report_held: 4096, report_chunks: 1, report_free: 900_000, report_served: 12345, report_version: 'test',
    });
    expect(await lastReportAt(env.DB, id)).toBeGreaterThanOrEqual(before);
  });

  it('refuses a replayed, older, expired, future-dated or wrongly signed report, and changes nothing', async () => {
    const { id, me } = await joined();
    const first = await signEnvelope(cryptoLike, me.key, report(id, { held: 1 }));
    expect((await post('/node-reports', {}, bearerOf(first))).status).toBe(202);
    const stranger = await identity();
    const cases: [string, Promise<Response>, number, string][] = [
      ['replayed', post('/node-reports', {}, bearerOf(first)), 409, 'conflict'],
      ['older', sendSigned('/node-reports', report(id, { at: clock - 100, held: 2 }), me.key), 409, 'conflict'],
      ['expired', sendSigned('/node-reports', report(id, { exp: exp(-1), held: 3 }), me.key), 401, 'token_expired'],
      ['future', sendSigned('/node-reports', report(id, { at: Date.now() + 3600_000, held: 4 }), me.key), 401, 'token_invalid'],
      ['wrong key', sendSigned('/node-reports', report(id, { held: 5 }), stranger.key), 401, 'token_invalid'],
      ['unknown node', sendSigned('/node-reports', report('sh-nobody', { held: 6 }), me.key), 401, 'token_invalid'],
      ['no signature', post('/node-reports', {}), 401, 'unauthorized'],
      ['malformed', post('/node-reports', {}, bearerOf('abc.def')), 401, 'token_invalid'],
    ];
    for (const [name, res, status, code] of cases) expect(await envelope(await res), name).toEqual([status, code]);
    expect((await getNode(env.DB, id))?.report_held).toBe(1);
  });

  it('logs the chunks a node reports damaged', async () => {
    const { id, me } = await joined();
    const hash = toHex(randomBytes(32));
    const content = toHex(randomBytes(16));
    expect((await sendSigned('/node-reports', report(id, { corrupt: [{ hash, content }] }), me.key)).status).toBe(202);
    const ev = await env.DB.prepare("SELECT content_id, detail FROM events WHERE kind = 'chunk-corrupt' AND node_id = ?").bind(id).first<{ content_id: string; detail: string }>();
    expect(ev).toEqual({ content_id: content, detail: JSON.stringify({ hash }) });
  });

  it('drains a node that asks with its key, once', async () => {
    const { id, me } = await joined();
    const msg = { t: 'drain' as const, n: id, at: ++clock, exp: exp() };
    const signed = await signEnvelope(cryptoLike, me.key, msg);
    const res = await post('/node-drains', {}, bearerOf(signed));
    expect([res.status, await res.json()]).toEqual([200, { id, state: 'draining' }]);
    expect((await getNode(env.DB, id))?.state).toBe('draining');
    expect(await envelope(await post('/node-drains', {}, bearerOf(signed)))).toEqual([409, 'conflict']);
    const stranger = await identity();
    const { id: other } = await joined();
    expect(await envelope(await sendSigned('/node-drains', { ...msg, n: other, at: ++clock }, stranger.key))).toEqual([401, 'token_invalid']);
    expect((await getNode(env.DB, other))?.state).toBe('joining');
  });

  it('names the self-hosted nodes that stopped reporting', async () => {
    const { id, me } = await joined();
    expect((await sendSigned('/node-reports', report(id), me.key)).status).toBe(202);
    const silent = async (since: number) => (await silentSelfHostedNodes(env.DB, since)).map((n) => n.id);
    expect(await silent(Date.now() - 60_000)).not.toContain(id);
    expect(await silent(Date.now() + 60_000)).toContain(id);
  });
});
