// Moving a content's manager (claim 7), on the operator's order: the object in charge hands its
// state to a new one near `region` and the registry switches to it (edge/manager/handoff.ts).
// A move that does not happen (already there, another move first) is a 409 saying where the
// manager is; a failed hand-off changes nothing and says why.
import { Hono } from 'hono';
import { MoveManagerRequest } from '../../protocol/api.ts';
import { BunsanError } from '../../protocol/errors.ts';
import type { PortalEnv } from '../env.ts';
import { jsonBody } from '../http.ts';
import { handOffManager } from '../manager/handoff.ts';
import { requireAdmin, type PortalVars } from './auth.ts';
import { parseContentId } from './managers.ts';

export const managerMoves = new Hono<{ Bindings: PortalEnv; Variables: PortalVars }>();

managerMoves.post('/:id/manager', requireAdmin, async (c) => {
  const id = parseContentId(c.req.param('id')!);
  const body = await jsonBody(c.req.raw, MoveManagerRequest);
  const r = await handOffManager(c.env, id, body.region, body.reason ?? 'operator');
  if (!r.moved) throw new BunsanError('conflict', `not moved: ${r.reason} (manager ${r.to})`, r);
  return c.json(r);
});
