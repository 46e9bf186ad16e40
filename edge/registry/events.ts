// The registry's event log (the source document's log server): every upload, commit, delete,
// move, repair, health change and report, with its reason. Accounting rolls it up.
export interface EventInput { at: number; kind: string; content?: string; node?: string; bytes?: number; detail?: unknown }

export function logEvent(db: D1Database, e: EventInput): D1PreparedStatement {
  return db.prepare('INSERT INTO events (at, kind, content_id, node_id, bytes, detail) VALUES (?, ?, ?, ?, ?, ?)')
    .bind(e.at, e.kind, e.content ?? null, e.node ?? null, e.bytes ?? null, e.detail === undefined ? null : JSON.stringify(e.detail));
}

/** How long a bad replica found on a node counts against it in manifests. */
export const FAULT_WINDOW_MS = 24 * 3600_000;

/** Per node: replicas its manager audits found bad (not `healthy`, not merely unreachable) since `since`. */
export async function recentFaults(db: D1Database, since: number): Promise<Map<string, number>> {
  const { results } = await db.prepare(
    `SELECT node_id, COUNT(*) AS n FROM events WHERE kind = 'replica-audit' AND at > ?
       AND json_extract(detail, '$.outcome') IN ('repaired', 'moved', 'degraded', 'unrecoverable') GROUP BY node_id`,
  ).bind(since).all<{ node_id: string; n: number }>();
  return new Map(results.map((r) => [r.node_id, r.n]));
}

/** Was the same report (node, detail) logged for this content since `since`? */
export async function reportSeen(db: D1Database, content: string, node: string, detail: string, since: number): Promise<boolean> {
  const row = await db.prepare(
    "SELECT 1 AS seen FROM events WHERE content_id = ? AND at > ? AND kind = 'chunk-report' AND node_id = ? AND detail = ? LIMIT 1",
  ).bind(content, since, node, detail).first<{ seen: number }>();
  return !!row;
}

export async function reportsOf(db: D1Database, content: string, limit: number) {
  const { results } = await db.prepare(
    "SELECT at, node_id, detail FROM events WHERE content_id = ? AND kind = 'chunk-report' ORDER BY at DESC, id DESC LIMIT ?",
  ).bind(content, limit).all<{ at: number; node_id: string; detail: string }>();
  return results;
}

/** The newest events about one node (health changes, state changes, moves), newest first. */
export async function nodeEvents(db: D1Database, node: string, limit: number) {
  const { results } = await db.prepare('SELECT at, kind, content_id, bytes, detail FROM events WHERE node_id = ? ORDER BY at DESC, id DESC LIMIT ?')
    .bind(node, limit).all<{ at: number; kind: string; content_id: string | null; bytes: number | null; detail: string | null }>();
  return results;
}
