// Chunks a node holds that the placement index does not name. Each is kept here from when the
// inventory reconciliation first saw it; once its grace period has passed and it is still
// unwanted, it is deleted on its node.
export interface OrphanRow { node_id: string; hash: string; content_id: string | null; size: number; first_seen: number }

/** Records the candidates (the first sighting stays) and forgets this node's earlier candidates that are now placed. */
export function noteOrphans(db: D1Database, node: string, found: { hash: string; content: string | null; size: number }[], at: number): D1PreparedStatement[] {
  return found.map((f) => db.prepare(
    'INSERT INTO orphans (node_id, hash, content_id, size, first_seen) VALUES (?, ?, ?, ?, ?) ON CONFLICT(node_id, hash) DO NOTHING',
  ).bind(node, f.hash, f.content, f.size, at));
}

export function forgetOrphans(db: D1Database, node: string, hashes: string[]): D1PreparedStatement {
  return db.prepare('DELETE FROM orphans WHERE node_id = ? AND hash IN (SELECT value FROM json_each(?))').bind(node, JSON.stringify(hashes));
}

export async function ripeOrphans(db: D1Database, seenBefore: number, limit: number): Promise<OrphanRow[]> {
  const { results } = await db.prepare('SELECT * FROM orphans WHERE first_seen <= ? ORDER BY first_seen LIMIT ?').bind(seenBefore, limit).all<OrphanRow>();
  return results;
}

export async function orphanCount(db: D1Database): Promise<Map<string, number>> {
  const { results } = await db.prepare('SELECT node_id, COUNT(*) AS n FROM orphans GROUP BY node_id').all<{ node_id: string; n: number }>();
  return new Map(results.map((r) => [r.node_id, r.n]));
}
