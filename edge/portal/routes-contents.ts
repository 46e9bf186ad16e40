// Download portal and catalog: list, info (where every chunk lives), manifest, delete.
import { Hono } from 'hono';
import { BunsanError } from '../../protocol/errors.ts';
import type { PortalEnv } from '../env.ts';
import { fromRpc } from '../http.ts';
import { listContents, toSummary } from '../registry.ts';
import { requireProvider, type PortalVars } from './auth.ts';
import { knownContent } from './managers.ts';

export const contents = new Hono<{ Bindings: PortalEnv; Variables: PortalVars }>();

contents.get('/', async (c) => {
  const limit = Number(c.req.query('limit') ?? 100);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new BunsanError('bad_request', 'limit must be 1-1000');
  const cursor = c.req.query('cursor') ?? null;
  if (cursor !== null && !/^[0-9a-f]{32}$/.test(cursor)) throw new BunsanError('bad_request', 'malformed cursor');
  const rows = await listContents(c.env.DB, limit, cursor);
  return c.json({ contents: rows.map(toSummary), cursor: rows.length === limit ? rows[rows.length - 1].id : null });
});

contents.get('/:id/manifest', async (c) => {
  const { stub } = await knownContent(c.env, c.req.param('id')!);
  return c.json(fromRpc(await stub.manifest()), 200, { 'cache-control': 'no-store' });
});

contents.get('/:id', requireProvider, async (c) => {
  const { stub } = await knownContent(c.env, c.req.param('id')!);
  return c.json(fromRpc(await stub.info()));
});

contents.delete('/:id', requireProvider, async (c) => {
  const { stub } = await knownContent(c.env, c.req.param('id')!);
  const r = fromRpc(await stub.remove(c.get('caller')));
  return c.json(r, r.state === 'deleted' ? 200 : 202);
});
