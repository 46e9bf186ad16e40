// Hostile input at a distribution node: every bad token, name, range and body is a 4xx JSON
// envelope with a stable code, and what the node stores is exactly as it was afterwards.
import { beforeAll, describe, expect, it } from 'vitest';
import { fromBase64Url, fromUtf8, toBase64Url, utf8 } from '../../protocol/bytes.ts';
import { generateSigningKeyPair, importPrivateKey } from '../../protocol/signing.ts';
import { MAX_PROBE_BYTES, PUBLIC_PROBE_BYTES } from '../../protocol/node-protocol.ts';
import {
  auth, call, getTokenFor, makeChunk, mgmtToken, newContent, peek, putTokenFor, sign, stored, target, type Chunk, upload,
} from './helpers.ts';

let held: Chunk; // a chunk the node holds
let fresh: Chunk; // a chunk it does not
let stranger: CryptoKey; // a key that is not the management tier's

const objects = () => target.snapshot();
// A HEAD answer carries the status and headers of the envelope, but no body.
const status = async (res: Response) => [res.status, (JSON.parse((await res.text()) || 'null') as { error: { code: string } } | null)?.error.code ?? null];

/** Runs each request and expects its envelope, then that the store did not change. */
async function refused(cases: [string, () => Response | Promise<Response>, number, string | null][]): Promise<void> {
  const before = await objects();
  for (const [name, send, code, error] of cases) {
    const res = await send();
    expect(res.headers.get('content-type'), name).toMatch(/^application\/json/);
    expect(await status(res), name).toEqual([code, error]);
  }
  expect(await objects()).toBe(before);
}

function tamper(token: string, change: (p: Record<string, unknown>) => Record<string, unknown>): string {
  const [body, sig] = token.split('.');
  return `${toBase64Url(utf8(JSON.stringify(change(JSON.parse(fromUtf8(fromBase64Url(body)))))))}.${sig}`;
}

beforeAll(async () => {
  held = await stored(await makeChunk(4096));
  fresh = await makeChunk(4096);
  stranger = await importPrivateKey(crypto, (await generateSigningKeyPair(crypto)).privateKey);
});

describe('tokens', () => {
  it('refuses forged, expired, tampered and malformed tokens', async () => {
    const past = Math.floor(Date.now() / 1000) - 1;
    const getOk = await getTokenFor(held.content);
    const putOk = await putTokenFor(fresh);
    await refused([
      ['forged get', async () => call(`/v1/chunks/${held.hash}`, { headers: auth(await sign({ t: 'get', c: held.content, exp: 2e9 }, stranger)) }), 401, 'token_invalid'],
      ['forged put', async () => upload(fresh, await sign({ t: 'put', c: fresh.content, v: 1, n: 'n1', h: fresh.hash, s: fresh.stamp, exp: 2e9 }, stranger)), 401, 'token_invalid'],
      ['forged mgmt', async () => call(`/v1/chunks/${held.hash}`, { method: 'DELETE', headers: auth(await sign({ t: 'mgmt', n: 'n1', exp: 2e9 }, stranger)) }), 401, 'token_invalid'],
      ['expired get', async () => call(`/v1/chunks/${held.hash}`, { headers: auth(await sign({ t: 'get', c: held.content, exp: past })) }), 401, 'token_expired'],
      ['expired put', async () => upload(fresh, await putTokenFor(fresh, { exp: past })), 401, 'token_expired'],
      ['expired mgmt', async () => call(`/v1/chunks/${held.hash}`, { method: 'DELETE', headers: auth(await sign({ t: 'mgmt', n: 'n1', exp: past })) }), 401, 'token_expired'],
      ['tampered get (content)', async () => call(`/v1/chunks/${held.hash}`, { headers: auth(tamper(await getTokenFor(newContent()), (p) => ({ ...p, c: held.content }))) }), 401, 'token_invalid'],
      ['tampered get (expiry)', async () => call(`/v1/chunks/${held.hash}`, { headers: auth(tamper(getOk, (p) => ({ ...p, exp: 4e9 }))) }), 401, 'token_invalid'],
      ['tampered put (hash)', async () => upload(fresh, tamper(await putTokenFor(held), (p) => ({ ...p, h: fresh.hash }))), 401, 'token_invalid'],
      ['tampered signature', async () => upload(fresh, putOk.slice(0, -4) + (putOk.endsWith('AAAA') ? 'BBBB' : 'AAAA')), 401, 'token_invalid'],
      ['type confusion: put token as get', async () => call(`/v1/chunks/${held.hash}`, { headers: auth(await putTokenFor(held)) }), 403, 'forbidden'],
      ['type confusion: get token as mgmt', async () => call(`/v1/chunks/${held.hash}`, { method: 'DELETE', headers: auth(getOk) }), 403, 'forbidden'],
      ['unknown token type', async () => call(`/v1/chunks/${held.hash}`, { headers: auth(await sign({ t: 'root', c: held.content, exp: 2e9 } as never)) }), 401, 'token_invalid'],
      ['two dots', async () => call(`/v1/chunks/${held.hash}`, { headers: auth(`${getOk}.x`) }), 401, 'token_invalid'],
      ['huge token', async () => call(`/v1/chunks/${held.hash}`, { headers: auth('a'.repeat(9000) + '.b') }), 401, 'token_invalid'],
      ['not bearer', async () => call(`/v1/chunks/${held.hash}`, { headers: { authorization: `Token ${getOk}` } }), 401, 'unauthorized'],
      ['no token at all', async () => upload(fresh, ''), 401, 'unauthorized'],
    ]);
  });

  it('refuses wrong-audience tokens: another node, another chunk, another content', async () => {
    const other = await makeChunk(4096); // of another content
    await refused([
      ['put token for another node', async () => upload(fresh, await putTokenFor(fresh, { n: 'n2' })), 403, 'wrong_audience'],
      ['mgmt token for another node', async () => call(`/v1/chunks/${held.hash}`, { method: 'DELETE', headers: auth(await sign({ t: 'mgmt', n: 'n2', exp: 2e9 })) }), 403, 'wrong_audience'],
      ['mgmt batch for another node', async () => call('/v1/chunks/delete', { method: 'POST', headers: { ...auth(await sign({ t: 'mgmt', n: 'n2', c: held.content, exp: 2e9 })), 'content-type': 'application/json' }, body: JSON.stringify({ hashes: [held.hash] }) }), 403, 'wrong_audience'],
      // an upload token replayed for another chunk of the same content, or a chunk of another content
      ['put token replayed for another chunk', async () => upload({ ...fresh, hash: (await makeChunk(10, fresh.content)).hash }, await putTokenFor(fresh)), 403, 'wrong_audience'],
      ['put token replayed for another content', async () => upload(other, await putTokenFor(fresh)), 403, 'wrong_audience'],
      // another content's chunk is answered as if it were absent (below: exactly alike)
      ['get token of another content', async () => call(`/v1/chunks/${held.hash}`, { headers: auth(await getTokenFor(other.content)) }), 404, 'chunk_not_found'],
      ['get token of another content, HEAD', async () => call(`/v1/chunks/${held.hash}`, { method: 'HEAD', headers: auth(await getTokenFor(other.content)) }), 404, null],
      ['scoped mgmt token of another content', async () => call(`/v1/chunks/${held.hash}`, { method: 'DELETE', headers: auth(await mgmtToken(other.content)) }), 403, 'forbidden'],
      // a valid upload token of another content cannot overwrite a chunk the node holds
      ['put of a held chunk under another content', async () => upload({ ...held, content: other.content }), 409, 'conflict'],
    ]);
    const meta = await peek(held.hash);
    expect(meta).toEqual({ content: held.content, stamp: held.stamp, version: '1' });
  });
});

describe('what a download token reveals', () => {
  it('nothing about which hashes the node holds: another content\'s chunk is answered exactly as an absent one', async () => {
    const absent = (await makeChunk(4096)).hash;
    const stranger = await getTokenFor(newContent());
    const narrowed = await sign({ t: 'get', c: held.content, h: fresh.hash, exp: Math.floor(Date.now() / 1000) + 60 });
    const ways: [string, (hash: string, method: string) => Response | Promise<Response>][] = [
      ['header', (h, method) => call(`/v1/chunks/${h}`, { method, headers: auth(stranger) })],
      ['query', (h, method) => call(`/v1/chunks/${h}?t=${encodeURIComponent(stranger)}`, { method })],
      ['a range', (h, method) => call(`/v1/chunks/${h}`, { method, headers: { ...auth(stranger), range: 'bytes=0-9' } })],
      ['a range past any chunk', (h, method) => call(`/v1/chunks/${h}`, { method, headers: { ...auth(stranger), range: 'bytes=99999999-' } })],
      ['a malformed range', (h, method) => call(`/v1/chunks/${h}`, { method, headers: { ...auth(stranger), range: 'bytes=x' } })],
      ['a token narrowed to another chunk', (h, method) => call(`/v1/chunks/${h}`, { method, headers: auth(narrowed) })],
    ];
    const seen = async (res: Response) => JSON.stringify([res.status, [...res.headers].sort(), await res.text()]);
    const before = await objects();
    for (const [how, ask] of ways) {
      for (const method of ['GET', 'HEAD']) {
        expect(await seen(await ask(held.hash, method)), `${method} with ${how}`).toBe(await seen(await ask(absent, method)));
      }
    }
    expect(await objects()).toBe(before);
  });
});

describe('probes', () => {
  const probe = (q: string, init: RequestInit = {}) => call(`/v1/probe${q}`, init);

  it('give anyone PUBLIC_PROBE_BYTES, and more only with a download token', async () => {
    const t = await getTokenFor(newContent());
    const big = PUBLIC_PROBE_BYTES + 1;
    await refused([
      ['large, no token', () => probe(`?bytes=${big}`), 401, 'unauthorized'],
      ['largest, no token', () => probe(`?bytes=${MAX_PROBE_BYTES}`), 401, 'unauthorized'],
      ['large, forged token', async () => probe(`?bytes=${big}&t=${await sign({ t: 'get', c: newContent(), exp: 2e9 }, stranger)}`), 401, 'token_invalid'],
      ['large, expired token', async () => probe(`?bytes=${big}`, { headers: auth(await sign({ t: 'get', c: newContent(), exp: 1 })) }), 401, 'token_expired'],
      ['large, upload token', async () => probe(`?bytes=${big}`, { headers: auth(await putTokenFor(fresh)) }), 403, 'forbidden'],
      ['large, malformed token', () => probe(`?bytes=${big}&t=x.y`), 401, 'token_invalid'],
    ]);
    expect((await probe(`?bytes=${PUBLIC_PROBE_BYTES}`)).status).toBe(200);
    for (const ok of [probe(`?bytes=${big}&t=${t}`), probe(`?bytes=${big}`, { headers: auth(t) })]) {
      const res = await ok;
      expect([res.status, (await res.arrayBuffer()).byteLength]).toEqual([200, big]);
    }
  });
});

describe('names and paths', () => {
  it('answers 400 invalid_hash to traversal and non-hex names, for every method', async () => {
    const token = await getTokenFor(held.content);
    const names = ['..%2f..%2fetc%2fpasswd', '..%2F' + 'a'.repeat(60), '%2e%2e%2f' + 'a'.repeat(55), 'A'.repeat(64), 'g'.repeat(64),
      'ab', '%00' + 'a'.repeat(63), 'a'.repeat(65), `${held.hash.slice(0, 63)}%20`, `chunks%2f${held.hash}`];
    const cases: [string, () => Response | Promise<Response>, number, string][] = [];
    for (const n of names) {
      cases.push([`GET ${n}`, () => call(`/v1/chunks/${n}`, { headers: auth(token) }), 400, 'invalid_hash']);
      cases.push([`PUT ${n}`, async () => call(`/v1/chunks/${n}`, { method: 'PUT', headers: auth(await putTokenFor(fresh)), body: fresh.data }), 400, 'invalid_hash']);
      cases.push([`DELETE ${n}`, async () => call(`/v1/chunks/${n}`, { method: 'DELETE', headers: auth(await mgmtToken()) }), 400, 'invalid_hash']);
    }
    cases.push(['deeper path', () => call(`/v1/chunks/${held.hash}/x`, { headers: auth(token) }), 404, 'not_found']);
    cases.push(['dot segments', () => call(`/v1/chunks/../inventory`, { headers: auth(token) }), 403, 'forbidden']);
    await refused(cases);
  });
});

describe('ranges', () => {
  it('answers malformed, multi, reversed and huge ranges with 400 or 416', async () => {
    const token = await getTokenFor(held.content);
    const get = (range: string) => () => call(`/v1/chunks/${held.hash}`, { headers: { ...auth(token), range } });
    await refused([
      ['malformed', get('bytes=abc'), 400, 'bad_request'],
      ['no unit', get('0-10'), 400, 'bad_request'],
      ['other unit', get('items=0-1'), 400, 'bad_request'],
      ['empty positions', get('bytes=-'), 400, 'bad_request'],
      ['multi-range', get('bytes=0-1,3-4'), 400, 'bad_request'],
      ['multi-range with spaces', get('bytes=0-1, 3-4'), 400, 'bad_request'],
      ['reversed', get('bytes=100-10'), 400, 'bad_request'],
      ['negative', get('bytes=-5-10'), 400, 'bad_request'],
      ['fractional', get('bytes=1.5-2'), 400, 'bad_request'],
      ['huge header', get(`bytes=0-${'9'.repeat(300)}`), 400, 'bad_request'],
      ['start past the end', get('bytes=4096-'), 416, 'range_not_satisfiable'],
      ['huge start', get(`bytes=${'9'.repeat(40)}-`), 416, 'range_not_satisfiable'],
      ['zero suffix', get('bytes=-0'), 416, 'range_not_satisfiable'],
    ]);
    // A huge end is legal (clients say "to the end" that way): it clamps to the chunk.
    const res = await get(`bytes=4000-${'9'.repeat(30)}`)();
    expect([res.status, res.headers.get('content-range')]).toEqual([206, 'bytes 4000-4095/4096']);
    expect((await res.arrayBuffer()).byteLength).toBe(96);
  });
});

describe('bodies', () => {
  it('refuses oversized, deeply nested, malformed and mistyped JSON, and oversized chunks', async () => {
    const t = await mgmtToken(held.content);
    const post = (path: string, body: string, type = 'application/json') => () =>
      call(path, { method: 'POST', headers: { ...auth(t), 'content-type': type }, body });
    const cases: [string, () => Response | Promise<Response>, number, string][] = [];
    for (const path of ['/v1/chunks/check', '/v1/chunks/delete']) {
      cases.push([`${path} oversized`, post(path, JSON.stringify({ hashes: [held.hash], pad: 'x'.repeat(300 * 1024) })), 413, 'payload_too_large']);
      cases.push([`${path} nested`, post(path, '{"hashes":' + '['.repeat(5000) + ']'.repeat(5000) + '}'), 400, 'invalid_body']);
      cases.push([`${path} malformed`, post(path, '{"hashes":["'), 400, 'bad_json']);
      cases.push([`${path} text/plain`, post(path, JSON.stringify({ hashes: [held.hash] }), 'text/plain'), 415, 'unsupported_media_type']);
      cases.push([`${path} form`, post(path, `hashes=${held.hash}`, 'application/x-www-form-urlencoded'), 415, 'unsupported_media_type']);
      cases.push([`${path} extra keys`, post(path, JSON.stringify({ hashes: [held.hash], all: true })), 400, 'invalid_body']);
      cases.push([`${path} prototype keys`, post(path, '{"hashes":["' + held.hash + '"],"__proto__":{"c":null}}'), 400, 'invalid_body']);
      cases.push([`${path} too many`, post(path, JSON.stringify({ hashes: Array(1001).fill(held.hash) })), 400, 'invalid_body']);
    }
    cases.push(['declared length over the limit', async () => call(`/v1/chunks/${fresh.hash}`, {
      method: 'PUT', headers: { ...auth(await putTokenFor(fresh)), 'content-length': String(64 * 1024 * 1024) }, body: fresh.data,
    }), 413, 'payload_too_large']);
    cases.push(['body that is not the chunk', async () => upload({ ...fresh, data: held.data }, await putTokenFor(fresh)), 400, 'hash_mismatch']);
    await refused(cases);
  });

  it('answers what the platform hands on of a broken request as the client\'s fault, and what it refuses itself changes nothing', async () => {
    const t = await mgmtToken(held.content);
    if (target.kind === 'worker') {
      // In-process, the runtime hands the application a body that fails part-way (a client
      // stopping short of its Content-Length) and any Content-Length a request carries.
      const cutOff = () => new ReadableStream<Uint8Array>({ start(c) { c.enqueue(fresh.data.subarray(0, 100)); c.error(new TypeError('Network connection lost.')); } });
      const cases: [string, () => Response | Promise<Response>, number, string][] = [
        ['chunk cut off', async () => call(`/v1/chunks/${fresh.hash}`, { method: 'PUT', headers: auth(await putTokenFor(fresh)), body: cutOff() }), 400, 'bad_request'],
        ['batch cut off', () => call('/v1/chunks/check', { method: 'POST', headers: { ...auth(t), 'content-type': 'application/json' }, body: cutOff() }), 400, 'bad_request'],
      ];
      for (const cl of ['abc', '-1', '1, 2', '0x10']) {
        cases.push([`Content-Length ${cl}`, async () => call(`/v1/chunks/${fresh.hash}`, { method: 'PUT', headers: { ...auth(await putTokenFor(fresh)), 'content-length': cl }, body: fresh.data }), 400, 'bad_request']);
      }
      return refused(cases);
    }
    // Over real HTTP, byte for byte on a socket of its own: whether the application or Node's
    // HTTP parser (selfhost/server.ts) catches it, the answer is the envelope.
    const before = await objects();
    const put = `PUT /v1/chunks/${fresh.hash} HTTP/1.1\r\nHost: n1\r\nAuthorization: Bearer ${await putTokenFor(fresh)}\r\nConnection: close\r\n`;
    const body = Buffer.from(fresh.data.subarray(0, 100)).toString('latin1');
    for (const [what, rest] of [
      ['a body shorter than its Content-Length', `Content-Length: ${fresh.data.length}\r\n\r\n${body}`],
      ['a chunk size that is not hex', `Transfer-Encoding: chunked\r\n\r\nzz\r\n${body}\r\n0\r\n\r\n`],
      ['a chunked body cut off', `Transfer-Encoding: chunked\r\n\r\n1000\r\n${body}`],
      ...['abc', '-1', '1, 2', '+5'].map((cl) => [`Content-Length ${cl}`, `Content-Length: ${cl}\r\n\r\n${body}`]),
    ]) {
      const r = await exchange(target.url, put + rest);
      expect([r.status, r.type, JSON.parse(r.body || 'null')?.error?.code], what).toEqual([400, 'application/json', 'bad_request']);
    }
    expect(await objects()).toBe(before);
  });
});

/** One request written as is on its own connection, half-closed after; its status, type and body. */
async function exchange(base: string, text: string): Promise<{ status: number; type: string; body: string }> {
  const { connect } = await import('node:net');
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const s = connect(Number(port), hostname, () => s.end(Buffer.from(text, 'latin1')));
    let out = '';
    s.on('data', (d: Buffer) => { out += d.toString('latin1'); });
    s.on('error', reject);
    s.on('close', () => {
      const [head, ...rest] = out.split('\r\n\r\n');
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0), type: /content-type: ([^\r]*)/i.exec(head)?.[1] ?? '', body: rest.join('\r\n\r\n') });
    });
  });
}
