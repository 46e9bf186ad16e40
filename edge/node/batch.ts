// Batch operations for the management tier: which chunks are here (check), remove a content's
// chunks (delete), and a paged listing for audits (inventory).
import { NodeCheckRequest } from '../../protocol/api.ts';
import { BunsanError } from '../../protocol/errors.ts';
import { jsonBody } from '../http.ts';
import { requireMgmt, type NodeContext } from './auth.ts';
import { mapLimit, type ChunkMeta } from './store.ts';

const CONCURRENCY = 32;

interface Found { hash: string; size: number; meta: ChunkMeta }

/** Heads every named chunk; keeps those present and, when `content` is set, belonging to it. */
async function lookup(c: NodeContext, hashes: string[], content: string | undefined): Promise<Found[]> {
  const unique = [...new Set(hashes)];
  const { store } = c.var.node;
  const heads = await mapLimit(unique, CONCURRENCY, (h) => store.head(h));
  const out: Found[] = [];
  heads.forEach((head, i) => {
    const meta = head?.meta;
    if (head && meta && (!content || meta.content === content)) out.push({ hash: unique[i], size: head.size, meta });
  });
  return out;
}

export async function checkChunks(c: NodeContext): Promise<Response> {
  const token = await requireMgmt(c);
  const { hashes } = await jsonBody(c.req.raw, NodeCheckRequest);
  const found = await lookup(c, hashes, token.c);
  return c.json({
    chunks: found.map((f) => ({ hash: f.hash, size: f.size, content: f.meta.content, stamp: f.meta.stamp })),
  });
}

export async function deleteChunks(c: NodeContext): Promise<Response> {
  const token = await requireMgmt(c);
  // A batch delete without a content scope could wipe anything named; it is refused.
  if (!token.c) throw new BunsanError('forbidden', 'batch delete needs a token scoped to one content');
  const { hashes } = await jsonBody(c.req.raw, NodeCheckRequest);
  const found = await lookup(c, hashes, token.c);
  // NodeCheckRequest allows at most 1000 hashes, which every store takes in one call.
  await c.var.node.store.remove(found.map((f) => f.hash));
  // Absent hashes are simply not listed: deleting twice is not an error.
  return c.json({ deleted: found.map((f) => f.hash) });
}

function limitParam(raw: string | undefined): number {
  if (raw === undefined || raw === '') return 100;
  if (!/^\d{1,4}$/.test(raw) || Number(raw) < 1 || Number(raw) > 1000) {
    throw new BunsanError('bad_request', 'limit must be an integer 1-1000');
  }
  return Number(raw);
}

export async function inventory(c: NodeContext): Promise<Response> {
  const token = await requireMgmt(c);
  const limit = limitParam(c.req.query('limit'));
  const cursor = c.req.query('cursor') || undefined;
  const page = await c.var.node.store.list(cursor, limit);
  const chunks = page.chunks.filter((o) => !token.c || o.content === token.c);
  // A scoped page may come back empty while the cursor still says there is more to read.
  return c.json({ chunks, cursor: page.cursor });
}
