// Who is calling: an operator (the ADMIN_TOKEN secret) or a provider (an API token, stored
// hashed in D1). Viewers need no credential for public content.
import type { Context, Next } from 'hono';
import { timingSafeEqual, utf8 } from '../../protocol/bytes.ts';
import { BunsanError } from '../../protocol/errors.ts';
import { sha256Hex } from '../../protocol/hash.ts';
import { looksLikeEnvelope } from '../../protocol/grants.ts';
import { bearer } from '../../protocol/tokens.ts';
import type { PortalEnv } from '../env.ts';
import type { Caller } from '../manager/deps.ts';
import { providerForTokenHash } from '../registry/providers.ts';

export type PortalVars = { caller: Caller };
export type PortalContext = Context<{ Bindings: PortalEnv; Variables: PortalVars }>;

export const hashApiToken = (token: string) => sha256Hex(crypto, utf8(token));

function isAdmin(env: PortalEnv, token: string): boolean {
  return !!env.ADMIN_TOKEN && timingSafeEqual(utf8(token), utf8(env.ADMIN_TOKEN));
}

async function identify(c: PortalContext): Promise<Caller> {
  const token = bearer(c.req.header('authorization'));
  if (!token) throw new BunsanError('unauthorized', 'an API token is required (Authorization: Bearer …)');
  return identifyToken(c, token);
}

async function identifyToken(c: PortalContext, token: string): Promise<Caller> {
  if (isAdmin(c.env, token)) return { providerId: 'operator', admin: true };
  const provider = await providerForTokenHash(c.env.DB, await hashApiToken(token));
  if (!provider) throw new BunsanError('token_invalid', 'unknown or revoked API token');
  return { providerId: provider, admin: false };
}

export async function requireProvider(c: PortalContext, next: Next) {
  c.set('caller', await identify(c));
  await next();
}

export async function requireAdmin(c: PortalContext, next: Next) {
  const caller = await identify(c);
  if (!caller.admin) throw new BunsanError('forbidden', 'operator credential required');
  c.set('caller', caller);
  await next();
}

/**
 * The credential of a request that anyone may make (catalog, manifest): none, an API token or
 * the operator's (identified, so a wrong one is refused rather than ignored), or a grant, in the
 * Authorization header or, for links that cannot set headers, `?grant=`.
 */
export async function viewerCredential(c: PortalContext): Promise<{ caller?: Caller; grant?: string }> {
  const header = c.req.header('authorization');
  const token = header === undefined ? null : bearer(header);
  if (header !== undefined && !token) throw new BunsanError('unauthorized', 'Authorization must be "Bearer <token>"');
  const query = c.req.query('grant');
  if (query !== undefined && (query.length > 8192 || !looksLikeEnvelope(query))) throw new BunsanError('token_invalid', 'malformed grant');
  if (token && looksLikeEnvelope(token)) return { grant: token };
  if (token) return { caller: await identifyToken(c, token), ...(query ? { grant: query } : {}) };
  return query ? { grant: query } : {};
}
