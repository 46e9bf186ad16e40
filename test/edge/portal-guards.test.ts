// The portal's guards on every response: the security headers, and rate limits per API token
// and per client address through the Workers Rate Limiting binding.
import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import portal from '../../edge/portal/index.ts';
import { addressKey } from '../../edge/portal/rate-limit.ts';
import { assetHeaderRules, CONTENT_SECURITY_POLICY, headersFile } from '../../edge/portal/security-headers.ts';

const call = (url: string, init: RequestInit = {}, e: object = env) => portal.request(url, init, e);

describe('security headers', () => {
  it('go on answers, errors and unknown routes alike', async () => {
    const responses = [
      await call('http://portal.test/api/v1/health'),
      await call('http://portal.test/api/v1/contents/zz/manifest'),
      await call('http://portal.test/nowhere'),
      await call('http://portal.test/api/v1/uploads', { method: 'POST' }),
      await call('http://portal.test/'),
    ];
    for (const res of responses) {
      expect(res.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
      expect(res.headers.get('permissions-policy')).toContain('camera=()');
      expect(res.headers.get('x-frame-options')).toBe('DENY');
      expect(res.headers.get('strict-transport-security')).toBeNull(); // plain http
    }
  });

  it('add HSTS over https', async () => {
    const res = await call('https://portal.test/api/v1/health');
    expect(res.headers.get('strict-transport-security')).toMatch(/^max-age=\d{8,}; includeSubDomains$/);
  });

  it('are strict, yet allow what the PWA needs', () => {
    const d = Object.fromEntries(CONTENT_SECURITY_POLICY.split('; ').map((x) => [x.split(' ')[0], x.split(' ').slice(1).join(' ')]));
    expect(d['default-src']).toBe("'self'");
    expect(d['script-src']).toBe("'self'"); // no inline, no eval
    expect(d['object-src']).toBe("'none'");
    expect(d['frame-ancestors']).toBe("'none'");
    expect(d['base-uri']).toBe("'none'");
    expect(d['connect-src']).toBe("'self' http: https:"); // nodes live on other origins
    expect(d['media-src']).toBe("'self' blob:"); // MediaSource
    expect(d['worker-src']).toBe("'self' blob:"); // the service worker and workers
  });

  it('come as a _headers file and asset rules for the static PWA, which the Worker does not serve', () => {
    const file = headersFile().split('\n');
    expect(file[0]).toBe('/*');
    expect(file).toContain(`  content-security-policy: ${CONTENT_SECURITY_POLICY}`);
    expect(file.some((l) => l.startsWith('  strict-transport-security: max-age='))).toBe(true);
    expect(assetHeaderRules().rules['/*'].set['x-content-type-options']).toBe('nosniff');
  });
});

describe('rate limits', () => {
  // As deployed on Cloudflare, where the edge sets CF-Connecting-IP on every request.
  const tiny = { ...env, RATE_LIMIT_ADDRESS: env.RATE_LIMIT_TINY, RATE_LIMIT_TOKEN: env.RATE_LIMIT_TINY, CLIENT_ADDRESS_HEADER: 'cf-connecting-ip' };

  it('answer 429 rate_limited with Retry-After once an address is over its budget', async () => {
    const headers = { 'cf-connecting-ip': '198.51.100.7' };
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await call('http://portal.test/api/v1/health', { headers }, tiny)).status);
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    const res = await call('http://portal.test/api/v1/health', { headers }, tiny);
    expect(res.headers.get('retry-after')).toBe('60');
    expect(res.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
    expect(await res.json()).toMatchObject({ error: { code: 'rate_limited' } });
    // Another address has its own budget.
    expect((await call('http://portal.test/api/v1/health', { headers: { 'cf-connecting-ip': '198.51.100.8' } }, tiny)).status).toBe(200);
  });

  it('count per token as well, whatever the address', async () => {
    const token = { authorization: 'Bearer some-token-value' };
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      // each from a fresh address, so only the token's budget can run out
      const tokenOnly = { ...env, RATE_LIMIT_TOKEN: env.RATE_LIMIT_TINY };
      statuses.push((await call('http://portal.test/api/v1/health', { headers: { ...token, 'cf-connecting-ip': `203.0.113.${i}` } }, tokenOnly)).status);
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
  });

  it('can be turned off, and leave non-API paths alone', async () => {
    const headers = { 'cf-connecting-ip': '198.51.100.99' };
    for (let i = 0; i < 6; i++) expect((await call('http://portal.test/api/v1/health', { headers }, { ...tiny, RATE_LIMIT: 'off' })).status).toBe(200);
    for (let i = 0; i < 6; i++) expect((await call('http://portal.test/', { headers }, tiny)).status).toBe(200);
  });

  it('count an IPv6 client by its /64', () => {
    expect(addressKey('2001:db8:1:2:3:4:5:6')).toBe(addressKey('2001:db8:1:2:ffff::1'));
    expect(addressKey('2001:db8:1:2::1')).not.toBe(addressKey('2001:db8:1:3::1'));
    expect(addressKey('2001:db8::1')).toBe(addressKey('2001:0db8:0000:0000:1::'));
    expect(addressKey('2001:DB8::')).toBe('addr6:2001:db8:0:0');
    expect(addressKey('192.0.2.1')).toBe('addr:192.0.2.1');
    expect(addressKey(undefined)).toBe('addr:unknown');
  });
});

describe('unread request bodies', () => {
  // An unread body makes the assets router drop the keep-alive connection (the client's next
  // request then fails with ECONNRESET), so the portal reads small ones to the end.
  it('are read to the end, whether the request succeeded or was refused', async () => {
    for (const [path, init] of [
      ['/api/v1/uploads/' + 'a'.repeat(32) + '/commit', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }],
      ['/api/v1/health', { method: 'GET' }],
      ['/api/v1/contents/' + 'a'.repeat(32) + '/grants', { method: 'POST', body: 'x'.repeat(5000) }],
    ] as const) {
      const req = new Request(`http://portal.test${path}`, init);
      const res = await portal.fetch(req, env);
      expect(res.status).toBeLessThan(500);
      if (req.body) expect(req.bodyUsed, path).toBe(true);
    }
  });
});

