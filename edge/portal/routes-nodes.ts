// The node directory and its lifecycle (operator only, but for the plain list that clients
// and the CLI read): add, register, drain, undrain, retire; a sweep on demand; who holds a
// chunk; rebuilding lost registry rows from the nodes and the managers.
import { Hono } from 'hono';
import { AddNodeRequest, RegisterNodeRequest, RetireRequest } from '../../protocol/api.ts';
import { ChunkHash, NodeId } from '../../protocol/ids.ts';
import { BunsanError } from '../../protocol/errors.ts';
import type { PortalEnv } from '../env.ts';
import { jsonBody } from '../http.ts';
import { addNode, drainNode, nodeStatuses, registerNode, retireNode, toStatus, undrainNode } from '../lifecycle/node-ops.ts';
import { whoHolds } from '../lifecycle/find.ts';
import { rebuildRegistry } from '../lifecycle/rebuild.ts';
import { runSweep } from '../lifecycle/sweep.ts';
import { listNodes } from '../registry/nodes.ts';
import { requireAdmin, viewerCredential, type PortalVars } from './auth.ts';

export const nodes = new Hono<{ Bindings: PortalEnv; Variables: PortalVars }>();

const nodeId = (raw: string | undefined) => {
  const r = NodeId.safeParse(raw);
  if (!r.success) throw new BunsanError('bad_request', 'node id is 1-32 of a-z, 0-9, -');
  return r.data;
};

// The plain directory for anyone; the operator's credential adds state, holdings, health, backlog.
nodes.get('/nodes', async (c) => {
  const { caller } = await viewerCredential(c);
  if (caller?.admin) return c.json({ nodes: await nodeStatuses(c.env) }, 200, { 'cache-control': 'no-store' });
  return c.json({ nodes: (await listNodes(c.env.DB)).map(({ id, url, region, grade, weight, state }) => ({ id, url, region, grade, weight, state })) });
});

nodes.post('/nodes', requireAdmin, async (c) => {
  const req = await jsonBody(c.req.raw, AddNodeRequest);
  return c.json(toStatus(await addNode(c.env, req, Date.now())), 201);
});

nodes.put('/nodes', requireAdmin, async (c) => {
  const n = await jsonBody(c.req.raw, RegisterNodeRequest);
  await registerNode(c.env, n, Date.now());
  return c.json(n);
});

nodes.post('/nodes/:id/drain', requireAdmin, async (c) => c.json(toStatus(await drainNode(c.env, nodeId(c.req.param('id')), Date.now()))));
nodes.post('/nodes/:id/undrain', requireAdmin, async (c) => c.json(toStatus(await undrainNode(c.env, nodeId(c.req.param('id')), Date.now()))));
nodes.post('/nodes/:id/retire', requireAdmin, async (c) => {
  const body = c.req.raw.body === null ? { force: false } : await jsonBody(c.req.raw, RetireRequest);
  return c.json(toStatus(await retireNode(c.env, nodeId(c.req.param('id')), body.force, Date.now())));
});

nodes.post('/sweep', requireAdmin, async (c) => c.json(await runSweep(c.env)));

nodes.get('/chunks/:hash', requireAdmin, async (c) => {
  const hash = ChunkHash.safeParse(c.req.param('hash'));
  if (!hash.success) throw new BunsanError('invalid_hash', 'chunk hash is 64 lowercase hex digits');
  const ask = c.req.query('ask');
  return c.json(await whoHolds(c.env, hash.data, ask === '1' || ask === 'true'), 200, { 'cache-control': 'no-store' });
});

nodes.post('/registry/rebuild', requireAdmin, async (c) => c.json(await rebuildRegistry(c.env, Date.now()), 202));
