// Management portal: providers and their API tokens, the public key, health.
import { Hono } from 'hono';
import { CreateProviderRequest } from '../../protocol/api.ts';
import { toBase64Url, toHex } from '../../protocol/bytes.ts';
import { randomBytes } from '../../protocol/crypto-like.ts';
import type { PortalEnv } from '../env.ts';
import { jsonBody } from '../http.ts';
import { logEvent } from '../registry/events.ts';
import { createProvider } from '../registry/providers.ts';
import { hashApiToken, requireAdmin, type PortalVars } from './auth.ts';

export const admin = new Hono<{ Bindings: PortalEnv; Variables: PortalVars }>();

admin.get('/health', (c) => c.json({ ok: true, time: Date.now() }));

admin.get('/keys', (c) => c.json({ signingPublicKey: c.env.SIGNING_PUBLIC_KEY }, 200, { 'cache-control': 'public, max-age=300' }));

admin.post('/providers', requireAdmin, async (c) => {
  const { name } = await jsonBody(c.req.raw, CreateProviderRequest);
  const id = toHex(randomBytes(crypto, 8));
  const token = `bsn_${toBase64Url(randomBytes(crypto, 32))}`;
  const now = Date.now();
  await c.env.DB.batch([
    ...createProvider(c.env.DB, { id, name, tokenHash: await hashApiToken(token), at: now }),
    logEvent(c.env.DB, { at: now, kind: 'provider-created', detail: { id, name } }),
  ]);
  return c.json({ id, token }, 201);
});
