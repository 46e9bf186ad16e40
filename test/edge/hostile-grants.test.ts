// Private contents and grants: the manifest (and so the key) of a private item goes only to its
// owner, the operator, or the holder of a valid, unrevoked grant for it. Every refusal is a
// 4xx envelope with a stable code and changes nothing.
import { env } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import { fromBase64Url, fromUtf8, toBase64Url, utf8 } from '../../protocol/bytes.ts';
import { issueGrant } from '../../protocol/grants.ts';
import { generateSigningKeyPair, importPrivateKey } from '../../protocol/signing.ts';
import { expiresIn, issueToken } from '../../protocol/tokens.ts';
import {
  ADMIN_TOKEN, apiFor, bearerOf, envelope, JSON_CT, newProvider, nodeCall, portalCall, randomBytes, registerNode, routeNodes, uploadBytes,
} from './edge-stack.ts';
import { snapshot } from './state-snapshot.ts';

let owner = '';
let stranger = '';
let priv = '';
let pub = '';
const signer = () => importPrivateKey(crypto, env.SIGNING_KEY);

const manifest = (id: string, headers: Record<string, string> = {}, query = '') =>
  portalCall(`/api/v1/contents/${id}/manifest${query}`, { headers });
const grantFor = async (id: string, token = owner, body: unknown = { ttlSeconds: 600 }) =>
  portalCall(`/api/v1/contents/${id}/grants`, { method: 'POST', headers: { ...bearerOf(token), ...JSON_CT }, body: JSON.stringify(body) });

beforeAll(async () => {
  routeNodes();
  await registerNode('n1');
  await registerNode('n2');
  owner = await newProvider('owner');
  stranger = await newProvider('stranger');
  priv = await uploadBytes(owner, randomBytes(100_000), { visibility: 'private' });
  pub = await uploadBytes(owner, randomBytes(1000));
});

describe('a private content', () => {
  it('is stored as private in the manager and in the registry', async () => {
    expect((await apiFor(owner).session(priv)).visibility).toBe('private');
    const row = await env.DB.prepare('SELECT visibility FROM contents WHERE id = ?').bind(priv).first<{ visibility: string }>();
    expect(row!.visibility).toBe('private');
  });

  it('gives its manifest to the owner and the operator', async () => {
    expect((await manifest(priv, bearerOf(owner))).status).toBe(200);
    expect((await manifest(priv, bearerOf(ADMIN_TOKEN))).status).toBe(200);
  });

  it('refuses a viewer without a grant, another provider, and a wrong API token', async () => {
    const before = await snapshot([priv]);
    expect(await envelope(await manifest(priv))).toEqual([401, 'unauthorized']);
    expect(await envelope(await manifest(priv, bearerOf(stranger)))).toEqual([401, 'unauthorized']);
    expect(await envelope(await manifest(priv, bearerOf('bsn_wrong')))).toEqual([401, 'token_invalid']);
    expect(await envelope(await manifest(priv, { authorization: 'Basic Zm9vOmJhcg==' }))).toEqual([401, 'unauthorized']);
    expect(await snapshot([priv])).toBe(before);
  });

  it('gives its manifest with a grant, in the header or as ?grant=', async () => {
    const res = await grantFor(priv);
    expect(res.status).toBe(201);
    const g = (await res.json()) as { id: string; grant: string; expiresAt: number };
    expect(g.id).toMatch(/^[0-9a-f]{32}$/);
    expect(g.expiresAt).toBeGreaterThan(Date.now() + 590_000);
    const viaHeader = await manifest(priv, bearerOf(g.grant));
    expect(viaHeader.status).toBe(200);
    expect(((await viaHeader.json()) as { id: string }).id).toBe(priv);
    expect((await manifest(priv, {}, `?grant=${g.grant}`)).status).toBe(200);
    expect((await apiFor().manifest(priv, g.grant)).id).toBe(priv);
  });

  it('refuses an expired, revoked, forged, tampered or foreign grant, and changes nothing', async () => {
    const key = await signer();
    const g = (await (await grantFor(priv)).json()) as { id: string; grant: string };
    // A grant whose record exists but whose signed expiry is past.
    const expiredId = ((await (await grantFor(priv, owner, { ttlSeconds: 1 })).json()) as { id: string }).id;
    const expired = await issueGrant(crypto, key, { t: 'grant', c: priv, id: expiredId, exp: Math.floor(Date.now() / 1000) - 1 });
    const stranger = await importPrivateKey(crypto, (await generateSigningKeyPair(crypto)).privateKey);
    const forged = await issueGrant(crypto, stranger, { t: 'grant', c: priv, id: g.id, exp: 2e9 });
    const [body, sig] = g.grant.split('.');
    const payload = JSON.parse(fromUtf8(fromBase64Url(body)));
    const tampered = `${toBase64Url(utf8(JSON.stringify({ ...payload, exp: payload.exp + 86400 })))}.${sig}`;
    const foreign = ((await (await grantFor(pub)).json()) as { grant: string }).grant;
    const unknown = await issueGrant(crypto, key, { t: 'grant', c: priv, id: 'f'.repeat(32), exp: 2e9 });
    const getToken = await issueToken(crypto, key, { t: 'get', c: priv, exp: expiresIn(Date.now(), 600) });
    const before = await snapshot([priv]);
    const cases: [string, [number, string]][] = [
      [expired, [401, 'token_expired']],
      [forged, [401, 'token_invalid']],
      [tampered, [401, 'token_invalid']],
      [foreign, [403, 'wrong_audience']],
      [unknown, [401, 'token_invalid']],
      [getToken, [401, 'token_invalid']], // a download token is not a grant
      ['a.b', [401, 'token_invalid']],
    ];
    for (const [grant, want] of cases) {
      expect(await envelope(await manifest(priv, bearerOf(grant))), grant.slice(0, 40)).toEqual(want);
      expect(await envelope(await manifest(priv, {}, `?grant=${encodeURIComponent(grant)}`))).toEqual(want);
    }
    expect(await envelope(await manifest(priv, {}, '?grant=nodot'))).toEqual([401, 'token_invalid']);
    expect(await snapshot([priv])).toBe(before);

    // Revoked: refused from then on, with its own code; revoking twice keeps the first time.
    const rev = await portalCall(`/api/v1/contents/${priv}/grants/${g.id}`, { method: 'DELETE', headers: bearerOf(owner) });
    expect(rev.status).toBe(200);
    const { revokedAt } = (await rev.json()) as { revokedAt: number };
    const afterRevoke = await snapshot([priv]);
    expect(await envelope(await manifest(priv, bearerOf(g.grant)))).toEqual([403, 'grant_revoked']);
    expect(await envelope(await manifest(priv, {}, `?grant=${g.grant}`))).toEqual([403, 'grant_revoked']);
    const again = await portalCall(`/api/v1/contents/${priv}/grants/${g.id}`, { method: 'DELETE', headers: bearerOf(owner) });
    expect(((await again.json()) as { revokedAt: number }).revokedAt).toBe(revokedAt);
    expect(await snapshot([priv])).toBe(afterRevoke);
  });

  it('lets only the owner or the operator issue and revoke grants', async () => {
    const g = (await (await grantFor(priv)).json()) as { id: string };
    const before = await snapshot([priv]);
    expect(await envelope(await grantFor(priv, stranger))).toEqual([403, 'forbidden']);
    expect(await envelope(await portalCall(`/api/v1/contents/${priv}/grants`, { method: 'POST', headers: JSON_CT, body: '{"ttlSeconds":60}' })))
      .toEqual([401, 'unauthorized']);
    expect(await envelope(await portalCall(`/api/v1/contents/${priv}/grants/${g.id}`, { method: 'DELETE', headers: bearerOf(stranger) })))
      .toEqual([403, 'forbidden']);
    expect(await envelope(await portalCall(`/api/v1/contents/${priv}/grants/${'0'.repeat(32)}`, { method: 'DELETE', headers: bearerOf(owner) })))
      .toEqual([404, 'grant_not_found']);
    expect(await envelope(await portalCall(`/api/v1/contents/${priv}/grants/..%2fx`, { method: 'DELETE', headers: bearerOf(owner) })))
      .toEqual([400, 'bad_request']);
    for (const body of [{}, { ttlSeconds: 0 }, { ttlSeconds: 1e9 }, { ttlSeconds: 60, label: 'x'.repeat(65) }, { ttlSeconds: 60, extra: 1 }]) {
      expect(await envelope(await grantFor(priv, owner, body)), JSON.stringify(body)).toEqual([400, 'invalid_body']);
    }
    expect(await snapshot([priv])).toBe(before);
    expect((await grantFor(priv, ADMIN_TOKEN)).status).toBe(201);
  });

  it('is not listed to anyone but its owner and the operator, nor shown to another provider', async () => {
    const ids = async (headers: Record<string, string> = {}) =>
      ((await (await portalCall('/api/v1/contents', { headers })).json()) as { contents: { id: string }[] }).contents.map((c) => c.id);
    expect(await ids()).toContain(pub);
    expect(await ids()).not.toContain(priv);
    expect(await ids(bearerOf(stranger))).not.toContain(priv);
    expect(await ids(bearerOf(owner))).toContain(priv);
    expect(await ids(bearerOf(ADMIN_TOKEN))).toContain(priv);
    expect(await envelope(await portalCall(`/api/v1/contents/${priv}`, { headers: bearerOf(stranger) }))).toEqual([403, 'forbidden']);
  });

  it('grants are useless at a node: a node wants a download token', async () => {
    const g = ((await (await grantFor(priv)).json()) as { grant: string }).grant;
    const m = await apiFor(owner).manifest(priv);
    const ch = m.chunks[0];
    const res = await nodeCall(ch.nodes[0] as 'n1' | 'n2', `/v1/chunks/${ch.hash}`, { headers: bearerOf(g) });
    expect(await envelope(res)).toEqual([401, 'token_invalid']);
  });
});

describe('a public content', () => {
  it('gives its manifest to anyone, with or without a grant', async () => {
    expect((await manifest(pub)).status).toBe(200);
    expect((await manifest(pub, bearerOf(stranger))).status).toBe(200);
  });
});
