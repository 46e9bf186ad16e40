// A distribution node's public face: probe, health, CORS, and the answers to bad paths and methods.
import { describe, expect, it } from 'vitest';
import { MAX_PROBE_BYTES, PUBLIC_PROBE_BYTES } from '../../protocol/node-protocol.ts';
import { auth, call, errorCode, getTokenFor, newContent, randomHash } from './helpers.ts';

describe('probe and health', () => {
  it('streams exactly N uncached bytes', async () => {
    const t = await getTokenFor(newContent());
    for (const n of [0, 1, 65536, 200_001]) {
      // Past PUBLIC_PROBE_BYTES a probe needs a download token.
      const res = await call(`/v1/probe?bytes=${n}${n > PUBLIC_PROBE_BYTES ? `&t=${t}` : ''}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(res.headers.get('content-length')).toBe(String(n));
      expect((await res.arrayBuffer()).byteLength).toBe(n);
    }
  });

  it('answers HEAD with the length only', async () => {
    const res = await call('/v1/probe?bytes=1000', { method: 'HEAD' });
    expect([res.status, res.headers.get('content-length'), res.body]).toEqual([200, '1000', null]);
  });

  it('rejects sizes outside 0..MAX_PROBE_BYTES', async () => {
    for (const q of ['', '?bytes=', `?bytes=${MAX_PROBE_BYTES + 1}`, '?bytes=-1', '?bytes=1.5', '?bytes=abc']) {
      const res = await call(`/v1/probe${q}`);
      expect([res.status, await errorCode(res)], q).toEqual([400, 'bad_request']);
    }
  });

  it('reports health', async () => {
    const res = await call('/v1/health');
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ ok: true, node: 'n1', region: 'test-region' });
    expect(typeof body.time).toBe('number');
  });
});

describe('CORS, routing and names', () => {
  it('answers preflights and puts CORS headers on errors', async () => {
    const pre = await call('/v1/chunks/' + randomHash(), { method: 'OPTIONS', headers: { origin: 'https://a.example' } });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe('*');
    expect(pre.headers.get('access-control-allow-headers')).toBe('Authorization, Range, Content-Type');
    expect(pre.headers.get('access-control-allow-methods')).toBe('GET, HEAD, PUT, DELETE, POST, OPTIONS');
    expect(pre.headers.get('access-control-max-age')).toBe('86400');
    expect(pre.headers.get('access-control-expose-headers')).toContain('bunsan-stamp');
    for (const res of [await call('/v1/chunks/' + randomHash()), await call('/nope'), await call('/v1/health', { method: 'PUT' })]) {
      expect(res.headers.get('access-control-allow-origin')).toBe('*');
      expect(res.headers.get('access-control-expose-headers')).toContain('Content-Range');
    }
  });

  it('answers 404 for unknown routes and 405 for wrong methods', async () => {
    const unknown = await call('/v1/nothing');
    expect([unknown.status, await errorCode(unknown)]).toEqual([404, 'not_found']);
    const cases: [string, string][] = [['/v1/health', 'POST'], ['/v1/probe?bytes=1', 'DELETE'], ['/v1/inventory', 'PUT'],
      ['/v1/chunks/check', 'GET'], ['/v1/chunks/delete', 'PUT'], [`/v1/chunks/${randomHash()}`, 'POST']];
    for (const [path, method] of cases) {
      const res = await call(path, { method });
      expect([res.status, await errorCode(res)], `${method} ${path}`).toEqual([405, 'method_not_allowed']);
    }
  });

  it('rejects traversal and non-hex chunk names with 400 invalid_hash', async () => {
    const token = await getTokenFor(newContent());
    for (const name of ['..%2f..%2fetc%2fpasswd', '..%2F' + 'a'.repeat(60), 'A'.repeat(64), 'g'.repeat(64), 'ab', '%00' + 'a'.repeat(63)]) {
      const res = await call(`/v1/chunks/${name}`, { headers: auth(token) });
      expect([res.status, await errorCode(res)], name).toEqual([400, 'invalid_hash']);
    }
    const put = await call(`/v1/chunks/..%2f${'a'.repeat(61)}`, { method: 'PUT', body: 'x' });
    expect(put.status).toBe(400);
  });
});
