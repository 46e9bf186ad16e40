// Download portal and catalog: list, info (where every chunk lives), manifest, delete, grants.
import { Hono } from 'hono';
import { CreateGrantRequest, GrantId } from '../../protocol/api.ts';
import { BunsanError } from '../../protocol/errors.ts';
import type { PortalEnv } from '../env.ts';
import { fromRpc, jsonBody } from '../http.ts';
import { listContents, toSummary } from '../registry/contents.ts';
import { requireProvider, viewerCredential, type PortalVars } from './auth.ts';
import { knownContent } from './managers.ts';
import { viewerOf } from './viewer.ts';

export const contents = new Hono<{ Bindings: PortalEnv; Variables: PortalVars }>();

contents.get('/', async (c) => {
  const limit = Number(c.req.query('limit') ?? 100);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new BunsanError('bad_request', 'limit must be 1-1000');
  const cursor = c.req.query('cursor') ?? null;
  if (cursor !== null && !/^[0-9a-f]{32}$/.test(cursor)) throw new BunsanError('bad_request', 'malformed cursor');
  const { caller } = await viewerCredential(c);
  const rows = await listContents(c.env.DB, limit, cursor, { providerId: caller?.providerId ?? null, admin: !!caller?.admin, now: Date.now() });
  return c.json({ contents: rows.map(toSummary), cursor: rows.length === limit ? rows[rows.length - 1].id : null });
});

// The manager decides: public, owner/operator, or a valid unrevoked grant; inside the stamp's window.
contents.get('/:id/manifest', async (c) => {
  const { stub } = await knownContent(c.env, c.req.param('id')!);
  const access = await viewerCredential(c);
  const credential = access.grant ?? (access.caller ? c.req.header('authorization') : undefined);
  const viewer = await viewerOf(c.req.raw, c.env, credential);
  return c.json(fromRpc(await stub.manifest({ ...access, viewer })), 200, { 'cache-control': 'no-store' });
});

contents.post('/:id/grants', requireProvider, async (c) => {
  const { stub } = await knownContent(c.env, c.req.param('id')!);
  const body = await jsonBody(c.req.raw, CreateGrantRequest);
  return c.json(fromRpc(await stub.grant(c.get('caller'), body)), 201, { 'cache-control': 'no-store' });
});

contents.delete('/:id/grants/:grantId', requireProvider, async (c) => {
  const { stub } = await knownContent(c.env, c.req.param('id')!);
  const id = GrantId.safeParse(c.req.param('grantId'));
  if (!id.success) throw new BunsanError('bad_request', 'grant id must be 32 lowercase hex digits');
  return c.json(fromRpc(await stub.revokeGrant(c.get('caller'), id.data)));
});

contents.get('/:id', requireProvider, async (c) => {
  const { stub } = await knownContent(c.env, c.req.param('id')!);
  return c.json(fromRpc(await stub.info(c.get('caller'))));
});

contents.delete('/:id', requireProvider, async (c) => {
  const { stub } = await knownContent(c.env, c.req.param('id')!);
  const r = fromRpc(await stub.remove(c.get('caller')));
  return c.json(r, r.state === 'deleted' ? 200 : 202);
});
