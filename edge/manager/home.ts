// Which Durable Object is in charge of a content, and how to reach it (the source document's
// management-server info DB lookup). A content's manager is the object named by its id until it
// moves; then the registry row names the object it moved to (`${id}.${generation}`). Everything
// that talks to a manager resolves it here, through the row, so a move is one row update.
import type { ManagerRegion } from '../../protocol/api.ts';
import type { PortalEnv } from '../env.ts';
import { getContent, managerName, type ContentRow } from '../registry/contents.ts';
import type { ContentManager } from './content-manager.ts';

export type ManagerStub = DurableObjectStub<ContentManager>;

/** The object called `name`; a hint places it near a region when this call creates it (ignored after). */
export function stubByName(env: Pick<PortalEnv, 'MANAGER'>, name: string, hint?: ManagerRegion | null): ManagerStub {
  const id = env.MANAGER.idFromName(name);
  return hint ? env.MANAGER.get(id, { locationHint: hint }) : env.MANAGER.get(id);
}

/**
 * The manager in charge of content `id`. Callers that have read the row already pass it (no
 * second read); null (a content the catalog does not know) falls back to the object named by the id.
 */
export async function managerStub(env: PortalEnv, id: string, row?: ContentRow | null): Promise<ManagerStub> {
  const r = row === undefined ? await getContent(env.DB, id) : row;
  return stubByName(env, r ? managerName(r) : id);
}

/** The generation of a manager's name: 0 for the object named by the id, n for `${id}.${n}`. */
export function nextManagerName(contentId: string, current: string): { name: string; generation: number } {
  const m = /\.(\d+)$/.exec(current);
  const generation = (m ? Number(m[1]) : 0) + 1;
  return { name: `${contentId}.${generation}`, generation };
}
