// The Worker node's probe budget: every probe counts against the client address the platform
// vouches for, on the node's RATE_LIMIT_PROBE binding (here the tiny one of the test config).
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import type { NodeEnv } from '../../edge/env.ts';
import app from '../../edge/node/index.ts';
import { PUBLIC_PROBE_BYTES } from '../../protocol/node-protocol.ts';
import { expiresIn, issueToken } from '../../protocol/tokens.ts';
import { importPrivateKey } from '../../protocol/signing.ts';

const E = env as unknown as { BUCKET: R2Bucket; SIGNING_KEY: string; SIGNING_PUBLIC_KEY: string; RATE_LIMIT_TINY: RateLimit };
const nodeEnv = (over: Partial<NodeEnv>): NodeEnv => ({ BUCKET: E.BUCKET, NODE_ID: 'n1', SIGNING_PUBLIC_KEY: E.SIGNING_PUBLIC_KEY, REGION: 'test', ...over });
const probe = (q: string, ip: string, e: NodeEnv) => app.request(`http://n1.node.test/v1/probe${q}`, { headers: { 'cf-connecting-ip': ip } }, e);

describe('probe budget', () => {
  it('counts probes per client address, and past the budget answers 429 with Retry-After', async () => {
    const limited = nodeEnv({ RATE_LIMIT_PROBE: E.RATE_LIMIT_TINY, CLIENT_ADDRESS_HEADER: 'cf-connecting-ip' });
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await probe('?bytes=1024', '198.51.100.40', limited)).status);
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    const res = await probe('?bytes=1024', '198.51.100.40', limited);
    expect(res.headers.get('retry-after')).toBe('60');
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(await res.json()).toMatchObject({ error: { code: 'rate_limited' } });
    // A larger probe with a token counts too; another address has its own budget.
    const key = await importPrivateKey(crypto, E.SIGNING_KEY);
    const t = await issueToken(crypto, key, { t: 'get', c: 'a'.repeat(32), exp: expiresIn(Date.now(), 60) });
    expect((await probe(`?bytes=${PUBLIC_PROBE_BYTES + 1}&t=${t}`, '198.51.100.40', limited)).status).toBe(429);
    expect((await probe('?bytes=1024', '198.51.100.41', limited)).status).toBe(200);
  });

  it('gives a client naming new addresses no new budget where no header is trusted', async () => {
    const untrusted = nodeEnv({ RATE_LIMIT_PROBE: E.RATE_LIMIT_TINY });
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await probe('?bytes=1', `203.0.113.${i}`, untrusted)).status);
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
  });

  it('counts nothing without a binding', async () => {
    for (let i = 0; i < 6; i++) expect((await probe('?bytes=1', '198.51.100.99', nodeEnv({}))).status).toBe(200);
  });
});
