// Reaching the manager in charge of a content (the source document's management-server info
// DB lookup): the catalog must know the id before a Durable Object is touched, so that unknown
// ids create nothing.
import { BunsanError } from '../../protocol/errors.ts';
import { ContentId } from '../../protocol/ids.ts';
import type { PortalEnv } from '../env.ts';
import { managerStub, type ManagerStub } from '../manager/home.ts';
import { getContent, type ContentRow } from '../registry/contents.ts';

export { managerStub, type ManagerStub };

export function parseContentId(raw: string): string {
  const r = ContentId.safeParse(raw);
  if (!r.success) throw new BunsanError('bad_request', 'content id must be 32 lowercase hex digits');
  return r.data;
}

/** The catalog row and the manager in charge (the row names it: one registry read). */
export async function knownContent(env: PortalEnv, raw: string): Promise<{ row: ContentRow; stub: ManagerStub }> {
  const id = parseContentId(raw);
  const row = await getContent(env.DB, id);
  if (!row) throw new BunsanError('content_not_found', `no content ${id}`);
  return { row, stub: await managerStub(env, id, row) };
}
