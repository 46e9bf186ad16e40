// Property-based fuzzing of the portal and a node inside workerd: random methods, paths,
// queries, headers and bodies, built from pieces that reach deep (real content ids, chunk
// hashes, tokens of every kind but the ones that may legitimately change state). Every answer
// must be below 500, an error must be a JSON envelope with a known code, and the registry, the
// buckets and the managers must be exactly as before.
import fc from 'fast-check';
import { env } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import { isErrorCode } from '../../protocol/errors.ts';
import { issueGrant } from '../../protocol/grants.ts';
import { generateSigningKeyPair, importPrivateKey } from '../../protocol/signing.ts';
import { expiresIn, issueToken } from '../../protocol/tokens.ts';
import { signingKey } from '../../edge/keys.ts';
import { apiFor, newProvider, nodeCall, portalCall, randomBytes, registerNode, routeNodes, uploadBytes } from './edge-stack.ts';
import { snapshot } from './state-snapshot.ts';

const RUNS = 300;
let ids: string[] = [];
let hashes: string[] = [];
let tokens: string[] = [];

beforeAll(async () => {
  routeNodes();
  await registerNode('n1');
  await registerNode('n2');
  const owner = await newProvider();
  const pub = await uploadBytes(owner, randomBytes(100_000));
  const priv = await uploadBytes(owner, randomBytes(70_000), { visibility: 'private' });
  const open = (await apiFor(owner).openUpload({ name: 'o', size: 100 })).id;
  ids = [pub, priv, open];
  hashes = (await apiFor(owner).manifest(pub)).chunks.map((c) => c.hash);
  const key = await signingKey(env.SIGNING_KEY);
  const stranger = await importPrivateKey(crypto, (await generateSigningKeyPair(crypto)).privateKey);
  const soon = expiresIn(Date.now(), 600);
  const grant = await apiFor(owner).grant(priv, 600);
  await apiFor(owner).revokeGrant(priv, grant.id);
  // Never a credential that may change state: no provider or operator token, no management
  // token for these nodes, no upload token whose chunk bytes the fuzzer could send.
  tokens = [
    'bsn_forged', 'x', 'a.b', '', `${'a'.repeat(100)}.${'b'.repeat(86)}`,
    await issueToken(crypto, key, { t: 'get', c: pub, exp: soon }), // read-only and valid
    await issueToken(crypto, key, { t: 'get', c: pub, exp: 1 }),
    await issueToken(crypto, stranger, { t: 'mgmt', n: 'n1', exp: soon }),
    await issueToken(crypto, key, { t: 'mgmt', n: 'n9', exp: soon }),
    await issueToken(crypto, key, { t: 'put', c: pub, v: 1, n: 'n1', h: 'f'.repeat(64), s: 'e'.repeat(64), exp: soon }),
    grant.grant, // revoked
    await issueGrant(crypto, stranger, { t: 'grant', c: priv, id: 'a'.repeat(32), exp: soon }),
  ];
});

const pick = <T>(xs: () => T[]) => fc.integer({ min: 0, max: 63 }).map((i) => xs()[i % xs().length]);
const junk = fc.oneof(fc.string({ maxLength: 40 }), fc.constantFrom('..', '%2e%2e', '%2f', '%00', '%zz', '.', '~', 'a'.repeat(300), '\u202e'));
const anyId = fc.oneof(
  { weight: 4, arbitrary: pick(() => ids) }, { weight: 2, arbitrary: pick(() => hashes) },
  { weight: 1, arbitrary: fc.stringMatching(/^[0-9a-f]{32}$/) }, { weight: 1, arbitrary: junk.map(encodeURIComponent) }, { weight: 1, arbitrary: junk },
);
// Requests follow the real routes (and their methods) with the holes filled from the pieces,
// or are random paths and methods.
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'];
const hole = (t: string) => (t === 'ID' ? anyId : fc.constant(t));
const routed = (routes: [string, string[]][]) => fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...routes).chain(([t, ms]) => fc.tuple(fc.constantFrom(...ms), fc.tuple(...t.split('/').map(hole)))) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom(...METHODS), fc.array(fc.oneof(anyId, fc.constantFrom(...routes.flatMap(([t]) => t.split('/')))), { maxLength: 5 })) },
);
const query = fc.oneof(
  fc.constant(''), pick(() => tokens).map((t) => `?grant=${encodeURIComponent(t)}`), pick(() => tokens).map((t) => `?t=${encodeURIComponent(t)}`),
  fc.string({ maxLength: 12 }).map((s) => `?from=${encodeURIComponent(s)}`), fc.nat(40).map((n) => `?from=${n}`),
  fc.string({ maxLength: 12 }).map((s) => `?limit=${encodeURIComponent(s)}&cursor=${encodeURIComponent(s)}`),
  fc.integer({ min: -5, max: 9_000_000 }).map((n) => `?bytes=${n}`),
);
const headers = fc.record({
  authorization: fc.oneof(
    { weight: 6, arbitrary: pick(() => tokens).map((t) => `Bearer ${t}`) }, { weight: 1, arbitrary: fc.string({ maxLength: 30 }) },
    { weight: 1, arbitrary: fc.constant('Basic eDp5') },
  ),
  'content-type': fc.oneof(
    { weight: 3, arbitrary: fc.constant('application/json') },
    { weight: 1, arbitrary: fc.constantFrom('text/plain', 'application/octet-stream', 'multipart/form-data; boundary=x', 'application/json; charset=utf-8', '') },
  ),
  range: fc.oneof(fc.constantFrom('bytes=0-1', 'bytes=-1', 'bytes=5-1', 'bytes=0-1,2-3', 'bytes=x', `bytes=0-${'9'.repeat(30)}`), fc.string({ maxLength: 20 })),
  'cf-connecting-ip': fc.ipV4(),
  'content-length': fc.oneof(fc.constantFrom('abc', '-1', '', ' 5', '1, 2', '0x10', '1e3', '9'.repeat(25)), fc.nat().map(String)),
}, { requiredKeys: [] });
const body = fc.oneof(
  fc.constant(undefined), fc.string({ maxLength: 200 }), fc.json({ maxDepth: 4 }),
  fc.record({ name: fc.string(), size: fc.integer(), visibility: fc.string(), minGrade: fc.integer(), replicas: fc.integer() }).map((o) => JSON.stringify(o)),
  fc.record({ ttlSeconds: fc.integer(), label: fc.string() }).map((o) => JSON.stringify(o)),
  pick(() => hashes).map((h) => JSON.stringify({ hashes: [h], chunks: [{ index: 0, hash: h, sealedLength: 65564 }] })),
  fc.record({ id: fc.string(), url: fc.webUrl(), grade: fc.integer() }).map((o) => JSON.stringify(o)),
  fc.uint8Array({ maxLength: 2048 }),
  // a body the connection loses part-way (made per request: a stream is read once)
  fc.string({ maxLength: 50 }).map((start) => () => new ReadableStream<Uint8Array>({
    start(c) {
      c.enqueue(new TextEncoder().encode(start));
      c.error(new TypeError('Network connection lost.'));
    },
  })),
  // names and labels that lie
  fc.constantFrom('\u202e', '\u200b', '\u2066', '\ufeff', '\ud800', '\u0085').map((h) => JSON.stringify({ name: `evil${h}gpj.exe`, size: 10, label: h, region: h })),
  // the largest declarations an open accepts
  fc.constantFrom(2 ** 45, 2 ** 45 - 1, 2 ** 40).map((size) => JSON.stringify({ name: 'big.bin', size, chunking: { mode: 'irregular', min: 65536, max: 65537 } })),
);
function request(prefix: string, routes: [string, string[]][]) {
  return fc.record({ route: routed(routes), query, headers, body })
    .map((r) => ({ ...r, method: r.route[0], path: `${prefix}/${r.route[1].join('/')}${r.query}` }));
}

const PORTAL_ROUTES: [string, string[]][] = [
  ['uploads', ['POST']], ['uploads/ID', ['GET']], ['uploads/ID/chunks', ['POST']], ['uploads/ID/confirm', ['POST']],
  ['uploads/ID/data', ['PUT']], ['uploads/ID/commit', ['POST']], ['contents', ['GET']], ['contents/ID', ['GET', 'DELETE']],
  ['contents/ID/manifest', ['GET', 'HEAD']], ['contents/ID/grants', ['POST']], ['contents/ID/grants/ID', ['DELETE']],
  ['nodes', ['GET', 'PUT']], ['providers', ['POST']], ['keys', ['GET']], ['health', ['GET']],
];
const NODE_ROUTES: [string, string[]][] = [
  ['chunks/ID', ['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS']], ['chunks/check', ['POST']], ['chunks/delete', ['POST']],
  ['probe', ['GET', 'HEAD']], ['health', ['GET']], ['inventory', ['GET']],
];

async function check(res: Response, label: string): Promise<void> {
  expect(res.status, label).toBeLessThan(500);
  if (res.status >= 400 && res.body) {
    const text = await res.text();
    const code = (JSON.parse(text) as { error: { code: string } }).error.code;
    expect(isErrorCode(code), `${label}: ${text}`).toBe(true);
  } else {
    await res.body?.cancel();
  }
}

const initOf = (r: { method: string; headers: Record<string, string>; body: unknown }): RequestInit => ({
  method: r.method, headers: r.headers,
  body: r.method === 'GET' || r.method === 'HEAD' || r.body === undefined ? undefined
    : typeof r.body === 'function' ? (r.body as () => BodyInit)() : (r.body as BodyInit),
});
// Hundreds of requests on a machine others share: a generous bound, not a measure of speed.
const FUZZ_TIMEOUT_MS = 120_000;

describe('fuzz', () => {
  it(`the portal answers ${RUNS} random requests below 500 and changes nothing`, async () => {
    const before = await snapshot(ids);
    await fc.assert(fc.asyncProperty(
      request('/api/v1', PORTAL_ROUTES),
      async (r) => check(await portalCall(r.path, initOf(r)), `${r.method} ${r.path}`),
    ), { numRuns: RUNS });
    expect(await snapshot(ids)).toBe(before);
  }, FUZZ_TIMEOUT_MS);

  it(`a node answers ${RUNS} random requests below 500 and changes nothing`, async () => {
    const before = await snapshot(ids);
    await fc.assert(fc.asyncProperty(
      request('/v1', NODE_ROUTES),
      async (r) => check(await nodeCall('n1', r.path, initOf(r)), `${r.method} ${r.path}`),
    ), { numRuns: RUNS });
    expect(await snapshot(ids)).toBe(before);
  }, FUZZ_TIMEOUT_MS);
});
