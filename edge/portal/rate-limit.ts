// Request rates of the API, limited per API token (or grant) and per client address with the
// Workers Rate Limiting binding: counters kept by the platform next to the Worker, no storage of
// ours. Limits and period live on the bindings (wrangler.toml [[ratelimits]], the local stack's
// BUNSAN_RATE_LIMIT_* variables); the RATE_LIMIT var set to "off" turns the check off.
// Counts are per Cloudflare location and approximate, which is what a flood guard needs. The
// address is the one the platform vouches for (edge/client-address.ts), never one the client
// names: without such a platform every client counts as one address.
import type { MiddlewareHandler } from 'hono';
import { utf8 } from '../../protocol/bytes.ts';
import { BunsanError } from '../../protocol/errors.ts';
import { sha256Hex } from '../../protocol/hash.ts';
import { bearer } from '../../protocol/tokens.ts';
import { clientAddress } from '../client-address.ts';
import type { PortalEnv } from '../env.ts';
import { errorResponse } from '../http.ts';

/** Both bindings count per minute (the binding allows 10 or 60 seconds). */
export const RATE_PERIOD_SECONDS = 60;

/** An IPv6 client is counted by its /64, which one subscriber usually holds whole. */
export function addressKey(ip: string | undefined): string {
  if (!ip) return 'addr:unknown';
  if (!ip.includes(':')) return `addr:${ip}`;
  // Expand "::" so that every spelling of one address gives the same first four groups.
  const [head, tail = ''] = ip.toLowerCase().split('::');
  const groups = (s: string) => (s ? s.split(':') : []);
  const h = groups(head);
  const t = groups(tail);
  const full = tail === '' && !ip.includes('::') ? h : [...h, ...Array(Math.max(0, 8 - h.length - t.length)).fill('0'), ...t];
  return `addr6:${full.slice(0, 4).map((g) => (parseInt(g, 16) || 0).toString(16)).join(':')}`;
}

async function allowed(limiter: RateLimit | undefined, key: string): Promise<boolean> {
  if (!limiter) return true;
  try {
    return (await limiter.limit({ key })).success;
  } catch (err) {
    // The limiter is a guard, not a dependency: if it fails, serve rather than refuse everyone.
    console.warn(`rate limiter failed: ${(err as Error).message}`);
    return true;
  }
}

export const rateLimit: MiddlewareHandler<{ Bindings: PortalEnv }> = async (c, next) => {
  if (c.env.RATE_LIMIT === 'off') return next();
  const credential = bearer(c.req.header('authorization')) ?? c.req.query('grant');
  // The token itself never leaves the Worker: the counter is keyed by its digest.
  const tokenKey = credential ? `tok:${await sha256Hex(crypto, utf8(credential))}` : null;
  const [byAddress, byToken] = await Promise.all([
    allowed(c.env.RATE_LIMIT_ADDRESS, addressKey(clientAddress(c.req.raw.headers, c.env))),
    tokenKey ? allowed(c.env.RATE_LIMIT_TOKEN, tokenKey) : true,
  ]);
  if (byAddress && byToken) return next();
  // The binding does not say when its window ends; a period from now is always enough.
  const res = errorResponse(new BunsanError('rate_limited', `too many requests per ${byToken ? 'address' : 'token'}; retry later`,
    { retryAfter: RATE_PERIOD_SECONDS }));
  res.headers.set('retry-after', String(RATE_PERIOD_SECONDS));
  return res;
};
