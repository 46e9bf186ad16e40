// Security on the real local stack, through the real CLI and HTTP against live nodes: private
// contents and grants, the publish window, retention ending in a delete everywhere, security
// grades, random placement, hostile requests at a live node, and a chunk copied from one
// content into another that the client refuses to decrypt.
import { webcrypto } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiClient } from '../../protocol/api-client.ts';
import { MAX_FILE_BYTES } from '../../protocol/api.ts';
import { fromBase64Url } from '../../protocol/bytes.ts';
import { deriveContentKey, sealChunk } from '../../protocol/chunk-crypto.ts';
import type { CryptoLike } from '../../protocol/crypto-like.ts';
import { sha256Hex } from '../../protocol/hash.ts';
import { chunkUrl } from '../../protocol/node-protocol.ts';
import { chunkPlan } from '../../protocol/split.ts';
import { putChunk } from '../../protocol/upload/put-chunk.ts';
import { expiresIn, issueToken } from '../../protocol/tokens.ts';
import { importPrivateKey } from '../../protocol/signing.ts';
import { MAX_PROBE_BYTES, PUBLIC_PROBE_BYTES } from '../../protocol/node-protocol.ts';
import { cli, nodeInventory, startTestStack, type TestStack } from './local-stack.ts';
import { randomFile, sha256 } from './files.ts';

const cryptoLike = webcrypto as unknown as CryptoLike;
const CS = 64 * 1024;
const ANON = { env: { BUNSAN_TOKEN: '' } }; // a viewer: no API token at all

/** One request written byte for byte on its own connection (then half-closed); the status line and body of the answer. */
function rawRequest(url: string, text: string): Promise<{ status: number; type: string; body: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const s = connect(Number(port), hostname, () => s.end(text));
    let out = '';
    s.on('data', (d) => { out += d.toString(); });
    s.on('error', reject);
    s.on('close', () => {
      const [head, ...rest] = out.split('\r\n\r\n');
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0), type: /content-type: ([^\r]*)/i.exec(head)?.[1] ?? '', body: rest.join('\r\n\r\n') });
    });
  });
}

describe('security on the live stack', () => {
  let stack: TestStack;
  let dir: string;
  const code = (stderr: string) => /^bunsan: ([a-z_]+):/.exec(stderr)?.[1];
  const upload = async (size: number, extra: string[] = []) => {
    const f = randomFile(dir, `f-${Math.random().toString(36).slice(2)}.bin`, size);
    const r = await cli(stack, ['upload', f.path, '--json', '--chunk-size', String(CS), ...extra]);
    expect(r.code, r.stderr).toBe(0);
    return { id: r.json().id as string, bytes: f.bytes };
  };
  const inventories = async () => JSON.stringify(await Promise.all(stack.nodes.map((n) => nodeInventory(stack, n.id))));
  const setGrade = (id: string, grade: number) => fetch(`${stack.portalUrl}/api/v1/nodes`, {
    method: 'PUT', headers: { authorization: `Bearer ${stack.secrets.ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ id, url: stack.nodes.find((n) => n.id === id)!.publicUrl, region: 'local', grade }),
  });

  beforeAll(async () => {
    stack = await startTestStack(3);
    dir = mkdtempSync(join(tmpdir(), 'bunsan-hostile-'));
  });
  afterAll(async () => {
    await stack?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a private content is fetched only with a grant, until it expires or is revoked', async () => {
    const { id, bytes } = await upload(300_000, ['--private']);
    const out = join(dir, 'private.out');
    // The owner (the CLI's own token) may; a viewer without a grant may not.
    expect((await cli(stack, ['get', id, '-o', out])).code).toBe(0);
    const anon = await cli(stack, ['get', id, '-o', join(dir, 'anon.out')], ANON);
    expect([anon.code, code(anon.stderr)]).toEqual([1, 'unauthorized']);
    expect(existsSync(join(dir, 'anon.out'))).toBe(false);
    const ls = (await cli(stack, ['ls', '--json'], ANON)).json();
    expect(ls.contents.map((c: { id: string }) => c.id)).not.toContain(id);

    const g = (await cli(stack, ['grant', id, '--ttl', '120', '--json'])).json();
    const viewer = await cli(stack, ['get', id, '--grant', g.grant, '-o', join(dir, 'viewer.out'), '--json'], ANON);
    expect(viewer.code, viewer.stderr).toBe(0);
    expect(sha256(readFileSync(join(dir, 'viewer.out')))).toBe(sha256(bytes));

    const short = (await cli(stack, ['grant', id, '--ttl', '1', '--json'])).json();
    await new Promise((r) => setTimeout(r, 1100));
    const expired = await cli(stack, ['get', id, '--grant', short.grant], ANON);
    expect([expired.code, code(expired.stderr)]).toEqual([1, 'token_expired']);

    const rev = await cli(stack, ['revoke', id, g.id, '--json']);
    expect(rev.code, rev.stderr).toBe(0);
    const revoked = await cli(stack, ['get', id, '--grant', g.grant], ANON);
    expect([revoked.code, code(revoked.stderr)]).toEqual([1, 'grant_revoked']);
  });

  it('keys are not released before publishAt, except to the owner', async () => {
    const { id } = await upload(100_000, ['--publish-at', new Date(Date.now() + 3_600_000).toISOString()]);
    const anon = await cli(stack, ['get', id], ANON);
    expect([anon.code, code(anon.stderr)]).toEqual([1, 'not_published']);
    expect((await cli(stack, ['get', id, '-o', join(dir, 'owner-early.out')])).code).toBe(0);
  });

  it('at expireAt the manager deletes the content on every node, then the catalog entry', async () => {
    const expireAt = Date.now() + 12_000; // room for the upload to commit first on a busy machine
    const { id } = await upload(400_000, ['--expire-at', String(expireAt), '--replicas', '2']);
    const held = async () => (await Promise.all(stack.nodes.map((n) => nodeInventory(stack, n.id)))).flat().filter((c) => c.content === id).length;
    expect(await held()).toBe(14); // 7 chunks x 2 replicas
    expect((await cli(stack, ['get', id, '-o', join(dir, 'before-expiry.out')], ANON)).code).toBe(0);
    let last = '';
    for (let i = 0; i < 60; i++) {
      await new Promise((r) => setTimeout(r, 500));
      const asked = Date.now();
      const r = await cli(stack, ['get', id], ANON);
      last = code(r.stderr) ?? '';
      if (asked >= expireAt) expect(r.code).toBe(1); // no key after expireAt, deleted or not
      if (last === 'content_not_found') break;
    }
    expect(last).toBe('content_not_found');
    expect(await held()).toBe(0);
    expect((await cli(stack, ['ls', '--json'])).json().contents.map((c: { id: string }) => c.id)).not.toContain(id);
  });

  it('places chunks only on nodes of the required grade, and refuses when too few qualify', async () => {
    expect((await setGrade('n3', 6)).status).toBe(200);
    try {
      const { id, bytes } = await upload(500_000, ['--min-grade', '5', '--replicas', '1']);
      const info = (await cli(stack, ['info', id, '--json'])).json();
      for (const ch of info.chunks) expect(ch.replicas.map((r: { node: string }) => r.node)).toEqual(['n3']);
      const got = await cli(stack, ['get', id, '-o', join(dir, 'graded.out')]);
      expect(got.code, got.stderr).toBe(0);
      expect(sha256(readFileSync(join(dir, 'graded.out')))).toBe(sha256(bytes));
      const f = randomFile(dir, 'too-high.bin', 1000);
      const before = await inventories();
      const refused = await cli(stack, ['upload', f.path, '--min-grade', '5', '--replicas', '2']);
      expect([refused.code, code(refused.stderr)]).toEqual([1, 'not_enough_nodes']);
      expect(await inventories()).toBe(before);
    } finally {
      await setGrade('n3', 1);
    }
  });

  it('random placement round-trips and spreads chunks over the nodes', async () => {
    const { id, bytes } = await upload(40 * CS, ['--placement', 'random', '--replicas', '1']);
    const info = (await cli(stack, ['info', id, '--json'])).json();
    const used = new Set(info.chunks.map((c: { replicas: { node: string }[] }) => c.replicas[0].node));
    expect(used.size).toBe(3); // 40 uniform draws over 3 nodes miss one with probability ~3 * (2/3)^40
    const got = await cli(stack, ['get', id, '-o', join(dir, 'random.out')]);
    expect(got.code, got.stderr).toBe(0);
    expect(sha256(readFileSync(join(dir, 'random.out')))).toBe(sha256(bytes));
  });

  it('a live node answers hostile requests with 4xx envelopes and keeps its chunks', async () => {
    const { id } = await upload(3 * CS);
    const api = createApiClient({ portal: stack.portalUrl, token: stack.token, fetch: (u, i) => fetch(u, i) });
    const m = await api.manifest(id);
    const node = m.nodes.find((n) => n.id === m.chunks[0].nodes[0])!;
    const url = chunkUrl(node.url, m.chunks[0].hash);
    const before = await inventories();
    const cases: [string, RequestInit & { url?: string }, number, string][] = [
      ['no token', {}, 401, 'unauthorized'],
      ['forged token', { headers: { authorization: `Bearer ${m.tokens.get.slice(0, -6)}AAAAAA` } }, 401, 'token_invalid'],
      ['multi-range', { headers: { authorization: `Bearer ${m.tokens.get}`, range: 'bytes=0-1,5-6' } }, 400, 'bad_request'],
      ['reversed range', { headers: { authorization: `Bearer ${m.tokens.get}`, range: 'bytes=9-1' } }, 400, 'bad_request'],
      ['range past the end', { headers: { authorization: `Bearer ${m.tokens.get}`, range: `bytes=${CS * 2}-` } }, 416, 'range_not_satisfiable'],
      ['traversal', { url: `${node.url}/v1/chunks/..%2f..%2fetc%2fpasswd`, headers: { authorization: `Bearer ${m.tokens.get}` } }, 400, 'invalid_hash'],
      ['delete with a download token', { method: 'DELETE', headers: { authorization: `Bearer ${m.tokens.get}` } }, 403, 'forbidden'],
      ['put with a download token', { method: 'PUT', headers: { authorization: `Bearer ${m.tokens.get}` }, body: 'x' }, 403, 'forbidden'],
    ];
    for (const [name, init, status, err] of cases) {
      const res = await fetch(init.url ?? url, init);
      expect([res.status, ((await res.json()) as { error: { code: string } }).error.code], name).toEqual([status, err]);
    }
    expect(await inventories()).toBe(before);
    // And the portal's answers carry the security headers.
    const res = await fetch(`${stack.portalUrl}/api/v1/contents/${id}/manifest`);
    expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    await res.body?.cancel();
  });

  it('a chunk copied into another content is stored under that content, and the client refuses to decrypt it', async () => {
    const victim = await upload(3 * CS, ['--replicas', '1']);
    const api = createApiClient({ portal: stack.portalUrl, token: stack.token, fetch: (u, i) => fetch(u, i) });
    const vm = await api.manifest(victim.id);
    const vnode = vm.nodes.find((n) => n.id === vm.chunks[0].nodes[0])!;
    const copied = new Uint8Array(await (await fetch(chunkUrl(vnode.url, vm.chunks[0].hash), { headers: { authorization: `Bearer ${vm.tokens.get}` } })).arrayBuffer());

    // The attacker's content lives only on another node (made the only one of grade 5), so the
    // copy is not refused as a conflict there: it is stored, under the attacker's content and stamp.
    const other = stack.nodes.find((n) => n.id !== vnode.id)!.id;
    await setGrade(other, 5);
    try {
      const s = await api.openUpload({ name: 'copy.bin', size: vm.size, replicas: 1, minGrade: 5, chunking: { mode: 'regular', size: CS } });
      const ctx = { contentId: s.id, version: s.version, stampDigest: s.stampDigest };
      const key = await deriveContentKey(cryptoLike, fromBase64Url(s.secret), ctx);
      for await (const span of chunkPlan(cryptoLike, s.size, s.chunking).spans()) {
        const sealed = span.index === 0 ? copied : await sealChunk(cryptoLike, key, ctx, span.index, victim.bytes.subarray(span.offset, span.offset + span.length));
        const hash = await sha256Hex(cryptoLike, sealed);
        const reg = await api.register(s.id, { chunks: [{ index: span.index, hash, sealedLength: sealed.length }] });
        for (const t of reg.chunks[0].targets) await putChunk((u, i) => fetch(u, i), t, hash, sealed);
        expect((await api.confirm(s.id, [hash])).stored).toEqual([span.index]);
      }
      await api.commit(s.id);
      const out = join(dir, 'copied.out');
      const r = await cli(stack, ['get', s.id, '-o', out]);
      expect(r.code).toBe(1);
      expect(['integrity_failed', 'chunk_unavailable']).toContain(code(r.stderr));
      expect(existsSync(out)).toBe(false);
      expect(existsSync(`${out}.part`)).toBe(false);
      // The original is untouched and still reads back.
      const ok = await cli(stack, ['get', victim.id, '-o', join(dir, 'victim.out')]);
      expect(ok.code, ok.stderr).toBe(0);
      expect(sha256(readFileSync(join(dir, 'victim.out')))).toBe(sha256(victim.bytes));
    } finally {
      await setGrade(other, 1);
    }
  });

  it('a name that lies is refused by the portal, and one stored before shows what it is in the CLI', async () => {
    const f = randomFile(dir, 'plain.bin', 1000);
    const refused = await cli(stack, ['upload', f.path, '--name', 'evil\u202egpj.exe']);
    expect([refused.code, code(refused.stderr)]).toEqual([1, 'invalid_body']);
    expect(refused.stderr).toContain('U+202E');
    expect(refused.stderr).not.toMatch(/[\u202a-\u202e\u2066-\u2069]/);

    // A portal that still holds such names (stored before the check) answers the catalog.
    const lying = 'evil\u202egpj.exe';
    const send = (res: import('node:http').ServerResponse, status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const old = createServer((req, res) => {
      if (req.url?.startsWith('/api/v1/contents?') || req.url === '/api/v1/contents') {
        return send(res, 200, { contents: [{ id: 'a'.repeat(32), name: lying, type: 'image/jpeg', size: 10, version: 1, chunkCount: 1, replicas: 1, committedAt: 1 }], cursor: null });
      }
      if (req.url === '/api/v1/nodes') return send(res, 200, { nodes: [{ id: 'n1', url: 'http://n1.example', region: 'eu\u2067west\u2069', grade: 1, weight: 1, state: 'active' }] });
      return send(res, 404, { error: { code: 'content_not_found', message: `no content named ${lying}` } });
    });
    await new Promise<void>((r) => old.listen(0, '127.0.0.1', r));
    const at = ['--portal', `http://127.0.0.1:${(old.address() as AddressInfo).port}`, '--token', 'bsn_x'];
    try {
      const ls = await cli(stack, ['ls', ...at]);
      expect(ls.code, ls.stderr).toBe(0);
      expect(ls.stdout.toString()).toContain('evil<U+202E>gpj.exe');
      const nodes = await cli(stack, ['nodes', ...at]);
      expect(nodes.stdout.toString()).toContain('eu<U+2067>west<U+2069>');
      // --json keeps the data exact, with the character escaped so a terminal shows it too.
      const json = await cli(stack, ['ls', '--json', ...at]);
      expect(json.stdout.toString()).toContain('evil\\u202egpj.exe');
      expect(json.json().contents[0].name).toBe(lying);
      const info = await cli(stack, ['info', 'b'.repeat(32), ...at]);
      expect(info.stderr.trim()).toBe('bunsan: content_not_found: no content named evil<U+202E>gpj.exe');
      for (const r of [ls, nodes, json, info]) expect(r.stdout.toString() + r.stderr).not.toMatch(/[\u061c\u200b-\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff]/);
    } finally {
      await new Promise((r) => old.close(r));
    }
  });

  it('a live portal and node answer every broken request that reaches them with an envelope', async () => {
    const node = stack.nodes[0];
    const key = await importPrivateKey(cryptoLike, stack.secrets.SIGNING_KEY);
    const hash = 'e'.repeat(64);
    const put = await issueToken(cryptoLike, key, { t: 'put', c: 'f'.repeat(32), v: 1, n: node.id, h: hash, s: 'c'.repeat(64), exp: expiresIn(Date.now(), 60) });
    const heads: [string, string, string][] = [
      ['portal', stack.portalUrl, `POST /api/v1/providers HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${stack.secrets.ADMIN_TOKEN}\r\nContent-Type: application/json\r\n`],
      ['node', node.url, `PUT /v1/chunks/${hash} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${put}\r\n`],
    ];
    const before = await inventories();
    for (const [who, url, head] of heads) {
      for (const [what, rest] of [
        ['a body shorter than its Content-Length', 'Content-Length: 100\r\nConnection: close\r\n\r\n{"name":"x"}'],
        ['a chunk size that is not hex', 'Transfer-Encoding: chunked\r\nConnection: close\r\n\r\nzz\r\n{"name":"x"}\r\n0\r\n\r\n'],
        ['a chunked body cut off', 'Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n40\r\n{"name":"x"}'],
        ['a Content-Length past any limit', `Content-Length: ${'9'.repeat(20)}\r\nConnection: close\r\n\r\n{"name":"x"}`],
      ]) {
        const r = await rawRequest(url, head + rest);
        expect([r.status, r.type], `${who}: ${what}: ${r.body}`).toEqual([what.includes('limit') ? 413 : 400, 'application/json']);
        expect(JSON.parse(r.body).error.code).toBe(what.includes('limit') ? 'payload_too_large' : 'bad_request');
      }
      // A Content-Length that is not a number never reaches the Worker: workerd's HTTP parser
      // answers it itself (docs/security.md). Whatever answers, nothing is accepted.
      for (const cl of ['abc', '-1', '1, 2', '+5', '1e3']) {
        const r = await rawRequest(url, `${head}Content-Length: ${cl}\r\nConnection: close\r\n\r\n{"name":"x"}`);
        expect(r.status, `${who}: Content-Length ${cl}`).toBeGreaterThanOrEqual(400);
        if (r.type.startsWith('application/json')) expect([r.status < 500, JSON.parse(r.body).error.code]).toEqual([true, 'bad_request']);
      }
    }
    expect(await inventories()).toBe(before);
  });

  it('a live node answers another content\'s chunk as an absent one, and sends large probes only with a token', async () => {
    const { id } = await upload(2 * CS, ['--replicas', '1']);
    const api = createApiClient({ portal: stack.portalUrl, token: stack.token, fetch: (u, i) => fetch(u, i) });
    const m = await api.manifest(id);
    const holder = m.nodes.find((n) => n.id === m.chunks[0].nodes[0])!;
    const stranger = await issueToken(cryptoLike, await importPrivateKey(cryptoLike, stack.secrets.SIGNING_KEY), { t: 'get', c: 'd'.repeat(32), exp: expiresIn(Date.now(), 60) });
    const answer = async (hash: string) => {
      const res = await fetch(chunkUrl(holder.url, hash), { headers: { authorization: `Bearer ${stranger}` } });
      return [res.status, await res.text()];
    };
    expect(await answer(m.chunks[0].hash)).toEqual(await answer('0'.repeat(64)));
    expect((await answer(m.chunks[0].hash))[0]).toBe(404);

    const probe = (q: string) => fetch(`${holder.url}/v1/probe?${q}`);
    const small = await probe(`bytes=${PUBLIC_PROBE_BYTES}`);
    expect([small.status, (await small.arrayBuffer()).byteLength]).toEqual([200, PUBLIC_PROBE_BYTES]);
    const big = await probe(`bytes=${MAX_PROBE_BYTES}`);
    expect([big.status, ((await big.json()) as { error: { code: string } }).error.code]).toEqual([401, 'unauthorized']);
    const allowed = await probe(`bytes=${PUBLIC_PROBE_BYTES + 1}&t=${encodeURIComponent(m.tokens.get)}`);
    expect([allowed.status, (await allowed.arrayBuffer()).byteLength]).toEqual([200, PUBLIC_PROBE_BYTES + 1]);
  });

  it('an open costs the same whatever size it declares, and a provider stays within its quota of open uploads', async () => {
    const api = createApiClient({ portal: stack.portalUrl, token: stack.token, fetch: (u, i) => fetch(u, i) });
    const operator = createApiClient({ portal: stack.portalUrl, token: stack.secrets.ADMIN_TOKEN, fetch: (u, i) => fetch(u, i) });
    const timed = async (size: number) => {
      const t0 = performance.now();
      const s = await operator.openUpload({ name: 'big.bin', size, replicas: 1, chunking: { mode: 'irregular', min: CS, max: CS + 1 } });
      const ms = performance.now() - t0;
      await operator.remove(s.id);
      return { ms, chunks: s.chunkCount };
    };
    const small: number[] = [];
    const large: number[] = [];
    for (let i = 0; i < 5; i++) {
      small.push((await timed(1024)).ms);
      const big = await timed(MAX_FILE_BYTES);
      expect(big.chunks).toBeGreaterThan(MAX_FILE_BYTES / (CS + 1) - 1);
      large.push(big.ms);
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
    expect(median(large)).toBeLessThan(5 * median(small));

    // The default quota of declared bytes (4 TiB) is the provider's, and a refusal leaves nothing behind.
    const refused = await api.openUpload({ name: 'too-big.bin', size: MAX_FILE_BYTES }).catch((e) => e);
    expect(refused).toMatchObject({ code: 'quota_exceeded' });
    expect(refused.message).toMatch(/commit or remove an open upload first/);
    const within = await api.openUpload({ name: 'fits.bin', size: 2 ** 40 });
    await api.remove(within.id);
  });
});
