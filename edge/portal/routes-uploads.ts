// Upload portal: open, register sealed chunks (direct mode), confirm, stream through the edge
// (gateway mode), commit. Both modes resume: the session says which chunks are already stored.
import { Hono } from 'hono';
import { CommitRequest, ConfirmRequest, MAX_COMMIT_BYTES, OpenUploadRequest, RegisterChunksRequest } from '../../protocol/api.ts';
import { newContentId } from '../../protocol/ids.ts';
import type { PortalEnv } from '../env.ts';
import { fromRpc, jsonBody } from '../http.ts';
import { uploadLimits } from '../upload-limits.ts';
import { requireProvider, type PortalVars } from './auth.ts';
import { gatewayUpload } from './gateway.ts';
import { stubByName } from '../manager/home.ts';
import { knownContent } from './managers.ts';
import { managerRegionFor } from './manager-region.ts';

export const uploads = new Hono<{ Bindings: PortalEnv; Variables: PortalVars }>();
uploads.use('*', requireProvider);

uploads.post('/', async (c) => {
  const request = await jsonBody(c.req.raw, OpenUploadRequest);
  const id = newContentId(crypto);
  const caller = c.get('caller');
  // Providers are held to their quota of open uploads; the operator is not.
  const limits = uploadLimits(c.env);
  const quota = caller.admin ? undefined : { uploads: limits.maxOpenUploads, bytes: limits.maxOpenBytes };
  // The manager is made near the provider (claim 7): named by the id, placed by the hint.
  const region = managerRegionFor(c.req.raw, request.region);
  const session = fromRpc(await stubByName(c.env, id, region).open({ id, providerId: caller.providerId, request, quota, region }));
  return c.json(session, 201);
});

uploads.get('/:id', async (c) => {
  const { stub } = await knownContent(c.env, c.req.param('id'));
  return c.json(fromRpc(await stub.session(c.get('caller'))));
});

uploads.post('/:id/chunks', async (c) => {
  const { stub } = await knownContent(c.env, c.req.param('id'));
  const body = await jsonBody(c.req.raw, RegisterChunksRequest);
  return c.json(fromRpc(await stub.register(c.get('caller'), body)));
});

uploads.post('/:id/confirm', async (c) => {
  const { stub } = await knownContent(c.env, c.req.param('id'));
  const body = await jsonBody(c.req.raw, ConfirmRequest);
  return c.json(fromRpc(await stub.confirm(c.get('caller'), body.hashes)));
});

uploads.put('/:id/data', async (c) => {
  const { stub } = await knownContent(c.env, c.req.param('id'));
  return c.json(await gatewayUpload(c.req.raw, stub, c.get('caller')));
});

uploads.post('/:id/commit', async (c) => {
  const { stub } = await knownContent(c.env, c.req.param('id'));
  // A body is optional: without one (or without media) nothing but the commit is asked.
  const body = c.req.raw.body === null ? {} : await jsonBody(c.req.raw, CommitRequest, MAX_COMMIT_BYTES);
  return c.json(fromRpc(await stub.commit(c.get('caller'), body.media)));
});
