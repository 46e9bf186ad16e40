// Hostile input at the portal and its managers, with live nodes in the same workerd: bad
// credentials, bodies and ids, another provider's upload, and a chunk copied from one content
// into another. Every refusal is a 4xx envelope with a stable code; the D1 registry, both node
// buckets and the managers' SQLite are read back and must be unchanged.
import { env } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import { clientAddress } from '../../edge/client-address.ts';
import { signingKey } from '../../edge/keys.ts';
import portal from '../../edge/portal/index.ts';
import { expiresIn, issueToken } from '../../protocol/tokens.ts';
import { fromBase64Url } from '../../protocol/bytes.ts';
import { deriveContentKey, openChunk } from '../../protocol/chunk-crypto.ts';
import { STAMP_HEADER } from '../../protocol/node-protocol.ts';
import { sha256Hex } from '../../protocol/hash.ts';
import {
  ADMIN_TOKEN, apiFor, bearerOf, envelope, JSON_CT, newProvider, nodeCall, portalCall, randomBytes, registerNode, routeNodes, uploadBytes,
  type LiveNode,
} from './edge-stack.ts';
import { snapshot } from './state-snapshot.ts';

let owner = '';
let other = '';
let done = ''; // a committed public content of `owner`
let open = ''; // an upload of `owner` still open

type Case = [string, () => Response | Promise<Response>, number, string];

async function refused(ids: string[], cases: Case[]): Promise<void> {
  const before = await snapshot(ids);
  for (const [name, send, status, code] of cases) expect(await envelope(await send()), name).toEqual([status, code]);
  expect(await snapshot(ids)).toBe(before);
}

/** A body the connection loses part-way: what the runtime hands on when a client stops short of its Content-Length. */
const cutOff = (start: string) => new ReadableStream<Uint8Array>({
  start(c) {
    c.enqueue(new TextEncoder().encode(start));
    c.error(new TypeError('Network connection lost.'));
  },
});

const post = (path: string, token: string, body: string, type = 'application/json') => () =>
  portalCall(path, { method: 'POST', headers: { ...bearerOf(token), 'content-type': type }, body });

beforeAll(async () => {
  routeNodes();
  await registerNode('n1');
  await registerNode('n2');
  owner = await newProvider('owner');
  other = await newProvider('other');
  done = await uploadBytes(owner, randomBytes(150_000));
  open = (await apiFor(owner).openUpload({ name: 'open.bin', size: 200_000, replicas: 2, chunking: { mode: 'regular', size: 65536 } })).id;
});

describe('credentials', () => {
  it('refuses forged, tampered and malformed API tokens on every route that needs one', async () => {
    const tampered = owner.slice(0, -2) + (owner.endsWith('AA') ? 'BB' : 'AA');
    const body = JSON.stringify({ name: 'x', size: 1 });
    const cases: Case[] = [];
    for (const [label, token, code] of [['forged', 'bsn_forged', 'token_invalid'], ['tampered', tampered, 'token_invalid'],
      ['admin with a suffix', `${ADMIN_TOKEN}x`, 'token_invalid'], ['admin prefix', ADMIN_TOKEN.slice(0, -1), 'token_invalid']] as const) {
      cases.push([`${label}: open`, post('/api/v1/uploads', token, body), 401, code]);
      cases.push([`${label}: rm`, () => portalCall(`/api/v1/contents/${done}`, { method: 'DELETE', headers: bearerOf(token) }), 401, code]);
      cases.push([`${label}: node`, () => portalCall('/api/v1/nodes', { method: 'PUT', headers: { ...bearerOf(token), ...JSON_CT }, body: '{"id":"evil","url":"http://evil.example"}' }), 401, code]);
    }
    cases.push(['no credential', () => portalCall(`/api/v1/contents/${done}`, { method: 'DELETE' }), 401, 'unauthorized']);
    cases.push(['basic auth', () => portalCall(`/api/v1/contents/${done}`, { method: 'DELETE', headers: { authorization: `Basic ${btoa(`x:${owner}`)}` } }), 401, 'unauthorized']);
    cases.push(['provider on operator route', () => portalCall('/api/v1/providers', { method: 'POST', headers: { ...bearerOf(owner), ...JSON_CT }, body: '{"name":"x"}' }), 403, 'forbidden']);
    await refused([done, open], cases);
  });

  it('keeps another provider out of an upload and a content', async () => {
    const reg = JSON.stringify({ chunks: [{ index: 0, hash: 'a'.repeat(64), sealedLength: 65536 + 28 }] });
    await refused([done, open], [
      ['session', () => portalCall(`/api/v1/uploads/${open}`, { headers: bearerOf(other) }), 403, 'forbidden'],
      ['register', post(`/api/v1/uploads/${open}/chunks`, other, reg), 403, 'forbidden'],
      ['confirm', post(`/api/v1/uploads/${open}/confirm`, other, JSON.stringify({ hashes: ['a'.repeat(64)] })), 403, 'forbidden'],
      ['gateway data', () => portalCall(`/api/v1/uploads/${open}/data?from=0`, { method: 'PUT', headers: bearerOf(other), body: new Uint8Array(10) }), 403, 'forbidden'],
      ['commit', post(`/api/v1/uploads/${open}/commit`, other, '{}'), 403, 'forbidden'],
      ['info', () => portalCall(`/api/v1/contents/${done}`, { headers: bearerOf(other) }), 403, 'forbidden'],
      ['rm', () => portalCall(`/api/v1/contents/${done}`, { method: 'DELETE', headers: bearerOf(other) }), 403, 'forbidden'],
      ['grant', post(`/api/v1/contents/${done}/grants`, other, '{"ttlSeconds":60}'), 403, 'forbidden'],
    ]);
  });
});

describe('ids and paths', () => {
  it('answers malformed and unknown ids without touching a manager', async () => {
    const cases: Case[] = [];
    for (const id of ['..%2f..%2fetc', 'A'.repeat(32), 'g'.repeat(32), 'a'.repeat(31), 'a'.repeat(33), `${done}%00`]) {
      cases.push([`manifest ${id}`, () => portalCall(`/api/v1/contents/${id}/manifest`), 400, 'bad_request']);
      cases.push([`session ${id}`, () => portalCall(`/api/v1/uploads/${id}`, { headers: bearerOf(owner) }), 400, 'bad_request']);
      cases.push([`rm ${id}`, () => portalCall(`/api/v1/contents/${id}`, { method: 'DELETE', headers: bearerOf(owner) }), 400, 'bad_request']);
    }
    cases.push(['unknown id', () => portalCall(`/api/v1/contents/${'0'.repeat(32)}/manifest`), 404, 'content_not_found']);
    cases.push(['bad cursor', () => portalCall(`/api/v1/contents?cursor=..%2f`), 400, 'bad_request']);
    cases.push(['bad limit', () => portalCall('/api/v1/contents?limit=1e9'), 400, 'bad_request']);
    cases.push(['bad from', () => portalCall(`/api/v1/uploads/${open}/data?from=-1`, { method: 'PUT', headers: bearerOf(owner), body: 'x' }), 400, 'bad_request']);
    cases.push(['unknown route', () => portalCall('/api/v1/../../etc/passwd'), 404, 'not_found']);
    // %2e%2e is a dot segment to URL parsing: it resolves away and names no route at all.
    cases.push(['encoded dot segment', () => portalCall('/api/v1/contents/%2e%2e/manifest'), 404, 'not_found']);
    await refused([done, open], cases);
  });
});

describe('bodies', () => {
  it('refuses oversized, deeply nested, malformed and mistyped JSON on every JSON route', async () => {
    const routes: [string, string][] = [
      ['/api/v1/uploads', owner], [`/api/v1/uploads/${open}/chunks`, owner], [`/api/v1/uploads/${open}/confirm`, owner],
      [`/api/v1/contents/${done}/grants`, owner], ['/api/v1/providers', ADMIN_TOKEN],
    ];
    const cases: Case[] = [];
    for (const [path, token] of routes) {
      cases.push([`${path} oversized`, post(path, token, JSON.stringify({ name: 'x'.repeat(300 * 1024) })), 413, 'payload_too_large']);
      cases.push([`${path} nested`, post(path, token, '['.repeat(10_000) + ']'.repeat(10_000)), 400, 'invalid_body']);
      cases.push([`${path} nested objects`, post(path, token, '{"a":'.repeat(100) + '1' + '}'.repeat(100)), 400, 'invalid_body']);
      cases.push([`${path} malformed`, post(path, token, '{"name":'), 400, 'bad_json']);
      cases.push([`${path} not UTF-8 JSON`, post(path, token, '\u0000\u0001'), 400, 'bad_json']);
      cases.push([`${path} text/plain`, post(path, token, '{}', 'text/plain'), 415, 'unsupported_media_type']);
      cases.push([`${path} no type`, () => portalCall(path, { method: 'POST', headers: bearerOf(token), body: '{}' }), 415, 'unsupported_media_type']);
      cases.push([`${path} multipart`, post(path, token, '--x\r\n\r\n{}\r\n--x--', 'multipart/form-data; boundary=x'), 415, 'unsupported_media_type']);
      cases.push([`${path} wrong shape`, post(path, token, '[1,2,3]'), 400, 'invalid_body']);
      // What the runtime lets through of a broken request is answered as the client's fault.
      cases.push([`${path} cut off`, () => portalCall(path, { method: 'POST', headers: { ...bearerOf(token), ...JSON_CT }, body: cutOff('{"name":"x","si') }), 400, 'bad_request']);
      for (const cl of ['abc', '-1', '1, 2', '0x10', '1e3']) {
        cases.push([`${path} Content-Length ${cl}`, () => portalCall(path, { method: 'POST', headers: { ...bearerOf(token), ...JSON_CT, 'content-length': cl }, body: '{}' }), 400, 'bad_request']);
      }
      cases.push([`${path} Content-Length past any limit`, () => portalCall(path, { method: 'POST', headers: { ...bearerOf(token), ...JSON_CT, 'content-length': '9'.repeat(30) }, body: '{}' }), 413, 'payload_too_large']);
    }
    cases.push(['gateway body cut off', () => portalCall(`/api/v1/uploads/${open}/data?from=0`, { method: 'PUT', headers: bearerOf(owner), body: cutOff('x'.repeat(1000)) }), 400, 'bad_request']);
    cases.push(['node with a javascript: url', () => portalCall('/api/v1/nodes', { method: 'PUT', headers: { ...bearerOf(ADMIN_TOKEN), ...JSON_CT }, body: '{"id":"x","url":"javascript:alert(1)"}' }), 400, 'invalid_body']);
    cases.push(['register outside the plan', post(`/api/v1/uploads/${open}/chunks`, owner, JSON.stringify({ chunks: [{ index: 99, hash: 'a'.repeat(64), sealedLength: 65564 }] })), 400, 'invalid_body']);
    cases.push(['confirm of a hash never registered', post(`/api/v1/uploads/${open}/confirm`, owner, JSON.stringify({ hashes: ['b'.repeat(64)] })), 400, 'invalid_body']);
    await refused([done, open], cases);
  });
});

describe('client addresses', () => {
  it('trust a client address only from the header the platform sets, never one a client names', async () => {
    // workerd alone (the local stack, tests) passes a client's CF-Connecting-IP through: with no
    // header configured, changing it buys no fresh budget, as every client is one address.
    const untrusted = { ...env, RATE_LIMIT_ADDRESS: env.RATE_LIMIT_TINY, RATE_LIMIT_TOKEN: env.RATE_LIMIT_TINY };
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) {
      statuses.push((await portal.request('http://portal.test/api/v1/health', { headers: { 'cf-connecting-ip': `192.0.2.${i}`, 'x-forwarded-for': `192.0.2.${i}` } }, untrusted)).status);
    }
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    expect(clientAddress(new Headers({ 'cf-connecting-ip': '192.0.2.1' }), {})).toBeUndefined();
    expect(clientAddress(new Headers({ 'cf-connecting-ip': '192.0.2.1' }), { CLIENT_ADDRESS_HEADER: '' })).toBeUndefined();
    // A configured header is read, and only if it holds an address.
    const on = { CLIENT_ADDRESS_HEADER: 'cf-connecting-ip' };
    expect(clientAddress(new Headers({ 'cf-connecting-ip': '192.0.2.1' }), on)).toBe('192.0.2.1');
    expect(clientAddress(new Headers({ 'cf-connecting-ip': '2001:db8::1' }), on)).toBe('2001:db8::1');
    for (const junk of ['', 'unknown', '999.1.1.1', '1.2.3.4, 5.6.7.8', '1.2.3', 'x'.repeat(60), ':'.repeat(50), '[::1]:80']) {
      expect(clientAddress(new Headers({ 'cf-connecting-ip': junk }), on), junk).toBeUndefined();
    }
    expect(clientAddress(new Headers({ 'x-forwarded-for': '192.0.2.1' }), on)).toBeUndefined();
  });

});

describe('names that lie', () => {
  it('refuses direction controls and invisible characters in every label others will read, and changes nothing', async () => {
    // All bidi controls, and one of each other class: C0, C1, zero-width, word joiner, BOM, a
    // format character, a tag, a line separator, a filler, a noncharacter, a lone surrogate.
    const hidden = ['\u061c', '\u200e', '\u200f', '\u202a', '\u202b', '\u202c', '\u202d', '\u202e', '\u2066', '\u2067', '\u2068', '\u2069',
      '\u0007', '\u0085', '\u200b', '\u200c', '\u200d', '\u2060', '\ufeff', '\u00ad', '\u{e0041}', '\u2028', '\u3164', '\ufffe', '\ud800'];
    const cases: Case[] = [];
    for (const h of hidden) {
      const at = `U+${h.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
      cases.push([`upload name ${at}`, post('/api/v1/uploads', owner, JSON.stringify({ name: `evil${h}gpj.exe`, size: 10 })), 400, 'invalid_body']);
      cases.push([`provider name ${at}`, post('/api/v1/providers', ADMIN_TOKEN, JSON.stringify({ name: `acme${h}` })), 400, 'invalid_body']);
      cases.push([`node region ${at}`, () => portalCall('/api/v1/nodes', { method: 'PUT', headers: { ...bearerOf(ADMIN_TOKEN), ...JSON_CT }, body: JSON.stringify({ id: 'n1', url: 'http://n1.node.test', region: `eu${h}` }) }), 400, 'invalid_body']);
      cases.push([`grant label ${at}`, post(`/api/v1/contents/${done}/grants`, owner, JSON.stringify({ ttlSeconds: 60, label: `for ${h}bob` })), 400, 'invalid_body']);
    }
    await refused([done, open], cases);
    const res = await post('/api/v1/uploads', owner, JSON.stringify({ name: 'evil\u202egpj.exe', size: 10 }))();
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/name must not contain .*U\+202E at 4/);
  });
});

describe('a chunk copied from one content into another', () => {
  it('cannot be stored over the original, read with the other content\'s token, nor decrypted as the other content', async () => {
    const victim = await apiFor().manifest(done); // public: anyone may read its ciphertext
    const chunk = victim.chunks[0];
    const holder = chunk.nodes[0] as LiveNode;
    const copied = await nodeCall(holder, `/v1/chunks/${chunk.hash}`, { headers: bearerOf(victim.tokens.get) });
    const bytes = new Uint8Array(await copied.arrayBuffer());
    const victimStamp = copied.headers.get(STAMP_HEADER);

    // The attacker opens a content of the same shape and registers the copied hash as its chunk 0:
    // the manager cannot know, and issues upload tokens for both nodes.
    const api = apiFor(other);
    const mine = await api.openUpload({ name: 'copy.bin', size: 150_000, replicas: 2, chunking: { mode: 'regular', size: 65536 } });
    const reg = await api.register(mine.id, { chunks: [{ index: 0, hash: chunk.hash, sealedLength: bytes.length }] });
    const targets = reg.chunks[0].targets;
    expect(targets.map((t) => t.node).sort()).toEqual(['n1', 'n2']);
    const atHolder = targets.find((t) => t.node === holder)!;
    const elsewhere = targets.find((t) => t.node !== holder)!;

    await refused([done], [
      // The node holding the original keeps it: its content and stamp do not change.
      ['put over the original', () => nodeCall(holder, `/v1/chunks/${chunk.hash}`, { method: 'PUT', headers: bearerOf(atHolder.token), body: bytes }), 409, 'conflict'],
      // A download token of the attacker's content does not read the original.
      ['read with the other content\'s token', async () => {
        const t = await issueToken(crypto, await signingKey(env.SIGNING_KEY), { t: 'get', c: mine.id, exp: expiresIn(Date.now(), 60) });
        return nodeCall(holder, `/v1/chunks/${chunk.hash}`, { headers: bearerOf(t) });
      }, 404, 'chunk_not_found'],
      // The attacker's upload token for the copied chunk is refused for any other chunk or node.
      ['token replayed for another chunk', () => nodeCall(elsewhere.node as LiveNode, `/v1/chunks/${victim.chunks[1].hash}`, { method: 'PUT', headers: bearerOf(elsewhere.token), body: bytes }), 403, 'wrong_audience'],
      ['token replayed at another node', () => nodeCall(holder, `/v1/chunks/${chunk.hash}`, { method: 'PUT', headers: bearerOf(elsewhere.token), body: bytes }), 403, 'wrong_audience'],
    ]);

    // Where no copy exists yet, the node stores it, but under the attacker's content and stamp.
    expect((await nodeCall(elsewhere.node as LiveNode, `/v1/chunks/${chunk.hash}`, { method: 'PUT', headers: bearerOf(elsewhere.token), body: bytes })).status).toBe(201);
    // The manager confirms only what a node holds under this content and stamp: the replica at
    // the original's node stays missing, so the copy can never be committed.
    const conf = await api.confirm(mine.id, [chunk.hash]);
    expect(conf.stored).toEqual([]);
    expect(conf.missing[0].nodes).toEqual([holder]);
    expect(await envelope(await post(`/api/v1/uploads/${mine.id}/commit`, other, '{}')())).toEqual([409, 'upload_incomplete']);

    // And a client holding the attacker's key refuses the bytes twice over: the node's stamp is
    // not the attacker's, and AES-GCM under the attacker's key, stamp and index fails.
    expect(victimStamp).not.toBe(mine.stampDigest);
    const ctx = { contentId: mine.id, version: mine.version, stampDigest: mine.stampDigest };
    const key = await deriveContentKey(crypto, fromBase64Url(mine.secret), ctx);
    await expect(openChunk(crypto, key, ctx, 0, bytes)).rejects.toMatchObject({ code: 'integrity_failed' });
    expect(await sha256Hex(crypto, bytes)).toBe(chunk.hash); // the very bytes, not a corruption
  });
});
