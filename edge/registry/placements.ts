// The placement index: which nodes hold which chunk of which content (claim 11's database way
// of finding data). Each manager mirrors its own verified copies here; the sweep slices
// contents by node from it, and the inventory reconciliation compares nodes against it.
export interface PlacementRow { content_id: string; hash: string; node_id: string; state: string; bytes: number; updated_at: number }

export function putPlacement(db: D1Database, p: { content: string; hash: string; node: string; bytes: number; at: number }): D1PreparedStatement {
  return db.prepare("INSERT OR REPLACE INTO placements (content_id, hash, node_id, state, bytes, updated_at) VALUES (?, ?, ?, 'stored', ?, ?)")
    .bind(p.content, p.hash, p.node, p.bytes, p.at);
}

export function removePlacement(db: D1Database, content: string, hash: string, node: string): D1PreparedStatement {
  return db.prepare('DELETE FROM placements WHERE content_id = ? AND hash = ? AND node_id = ?').bind(content, hash, node);
}

/** Every placement of a content replaced by `rows` (commit, or a manager republishing after a rebuild). */
export function replacePlacements(db: D1Database, content: string, rows: { hash: string; node: string; bytes: number }[], at: number): D1PreparedStatement[] {
  return [db.prepare('DELETE FROM placements WHERE content_id = ?').bind(content), ...rows.map((r) => putPlacement(db, { content, ...r, at }))];
}

export async function hasPlacement(db: D1Database, content: string, hash: string, node: string): Promise<boolean> {
  return !!(await db.prepare('SELECT 1 AS ok FROM placements WHERE hash = ? AND node_id = ? AND content_id = ?').bind(hash, node, content).first());
}

/** Who holds a chunk, by the index. */
export async function holdersOf(db: D1Database, hash: string): Promise<PlacementRow[]> {
  const { results } = await db.prepare('SELECT * FROM placements WHERE hash = ? ORDER BY node_id').bind(hash).all<PlacementRow>();
  return results;
}

/** Of `hashes` on `node`, those the index knows there. */
export async function placedOn(db: D1Database, node: string, hashes: string[]): Promise<Set<string>> {
  if (hashes.length === 0) return new Set();
  const { results } = await db.prepare('SELECT hash FROM placements WHERE node_id = ? AND hash IN (SELECT value FROM json_each(?))')
    .bind(node, JSON.stringify(hashes)).all<{ hash: string }>();
  return new Set(results.map((r) => r.hash));
}

/** One slice of the contents with a copy on `node`, after `after` in id order. */
export async function contentsOnNode(db: D1Database, node: string, after: string, limit: number): Promise<string[]> {
  const { results } = await db.prepare('SELECT DISTINCT content_id FROM placements WHERE node_id = ? AND content_id > ? ORDER BY content_id LIMIT ?')
    .bind(node, after, limit).all<{ content_id: string }>();
  return results.map((r) => r.content_id);
}

/** How many copies the index places on `node`. */
export async function placementCount(db: D1Database, node: string): Promise<number> {
  const row = await db.prepare('SELECT COUNT(*) AS n FROM placements WHERE node_id = ?').bind(node).first<{ n: number }>();
  return row?.n ?? 0;
}
