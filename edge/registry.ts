// The D1 registry: catalog, nodes, providers, placement index and event log. Only small typed
// functions here; the manager owns each content's truth and mirrors it into these tables.
import type { ContentSummary, NodeRecord } from '../protocol/api.ts';

export interface ContentRow {
  id: string; provider_id: string; name: string; type: string; size: number; version: number;
  chunk_count: number; replicas: number; state: string; created_at: number; committed_at: number | null;
  visibility: 'public' | 'private'; min_grade: number; publish_at: number | null; expire_at: number | null;
}

export const toSummary = (r: ContentRow): ContentSummary => ({
  id: r.id, name: r.name, type: r.type, size: r.size, version: r.version, chunkCount: r.chunk_count,
  replicas: r.replicas, committedAt: r.committed_at ?? 0, visibility: r.visibility ?? 'public',
});

export async function listNodes(db: D1Database, onlyActive = false): Promise<NodeRecord[]> {
  const sql = `SELECT id, url, region, grade, weight, state FROM nodes ${onlyActive ? "WHERE state = 'active'" : ''} ORDER BY id`;
  const { results } = await db.prepare(sql).all<NodeRecord>();
  return results;
}

export function upsertNode(db: D1Database, n: NodeRecord, now: number) {
  return db.prepare(
    `INSERT INTO nodes (id, url, region, grade, weight, state, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)
     ON CONFLICT(id) DO UPDATE SET url = ?2, region = ?3, grade = ?4, weight = ?5, state = ?6, updated_at = ?7`,
  ).bind(n.id, n.url, n.region, n.grade, n.weight, n.state, now).run();
}

export async function getContent(db: D1Database, id: string): Promise<ContentRow | null> {
  return db.prepare('SELECT * FROM contents WHERE id = ?').bind(id).first<ContentRow>();
}

/**
 * The catalog a caller may see: the operator sees everything committed; anyone else sees public
 * contents inside their publish window, plus (a provider) every content of their own.
 */
export async function listContents(
  db: D1Database, limit: number, after: string | null, viewer: { providerId: string | null; admin: boolean; now: number },
): Promise<ContentRow[]> {
  const { results } = await db.prepare(
    `SELECT * FROM contents WHERE state = 'committed' AND (?1 IS NULL OR id > ?1)
       AND (?3 = 1 OR provider_id = ?4 OR (visibility = 'public' AND (publish_at IS NULL OR publish_at <= ?5)
            AND (expire_at IS NULL OR expire_at > ?5)))
     ORDER BY id LIMIT ?2`,
  ).bind(after, limit, viewer.admin ? 1 : 0, viewer.providerId, viewer.now).all<ContentRow>();
  return results;
}

export function logEvent(db: D1Database, e: { at: number; kind: string; content?: string; node?: string; bytes?: number; detail?: unknown }) {
  return db.prepare('INSERT INTO events (at, kind, content_id, node_id, bytes, detail) VALUES (?, ?, ?, ?, ?, ?)')
    .bind(e.at, e.kind, e.content ?? null, e.node ?? null, e.bytes ?? null, e.detail === undefined ? null : JSON.stringify(e.detail));
}

export async function providerForTokenHash(db: D1Database, tokenHash: string): Promise<string | null> {
  const row = await db.prepare('SELECT provider_id FROM api_tokens WHERE token_hash = ? AND revoked_at IS NULL')
    .bind(tokenHash).first<{ provider_id: string }>();
  return row?.provider_id ?? null;
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
