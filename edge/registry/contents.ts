// The registry's catalog (the source document's management-server info DB): which contents
// exist, in which state, and what a caller may list. The manager of each content owns its
// truth and mirrors it here.
import type { ContentSummary, OpenUploadParsed } from '../../protocol/api.ts';

export interface ContentRow {
  id: string; provider_id: string; name: string; type: string; size: number; version: number;
  chunk_count: number; replicas: number; state: string; created_at: number; committed_at: number | null;
  visibility: 'public' | 'private'; min_grade: number; publish_at: number | null; expire_at: number | null;
  /** the Durable Object in charge (null: the one named by the id) and its location hint (null: none) */
  manager?: string | null; manager_region?: string | null;
}

/** The name of the manager object in charge of a content: rows from before managers moved name none. */
export const managerName = (r: Pick<ContentRow, 'id' | 'manager'>): string => r.manager ?? r.id;

export const toSummary = (r: ContentRow): ContentSummary => ({
  id: r.id, name: r.name, type: r.type, size: r.size, version: r.version, chunkCount: r.chunk_count,
  replicas: r.replicas, committedAt: r.committed_at ?? 0, visibility: r.visibility ?? 'public',
});

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

export interface NewContent {
  id: string; providerId: string; request: OpenUploadParsed; version: number; chunkCount: number; createdAt: number;
  /** the manager object opening it, and the location hint it was placed with */
  manager: string; managerRegion: string | null;
}

/** A provider's open uploads: at most `uploads` of them, declaring at most `bytes` together. */
export interface UploadQuota { uploads: number; bytes: number }

/**
 * The catalog entry of a new upload. With a quota the row goes in only if the provider's open
 * uploads stay within it, counted in the same statement, so two opens at once cannot both pass
 * on one free place; the statement's `changes` is 0 when it did not.
 */
export function insertContent(db: D1Database, c: NewContent, quota?: UploadQuota): D1PreparedStatement {
  const r = c.request;
  const values = [c.id, c.providerId, r.name, r.type, r.size, c.version, c.chunkCount, r.replicas, c.createdAt,
    r.visibility, r.minGrade, r.publishAt ?? null, r.expireAt ?? null, c.manager, c.managerRegion];
  const insert = `INSERT INTO contents (id, provider_id, name, type, size, version, chunk_count, replicas, state, created_at,
        visibility, min_grade, publish_at, expire_at, manager, manager_region)`;
  const row = "?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'uploading', ?9, ?10, ?11, ?12, ?13, ?14, ?15";
  if (!quota) return db.prepare(`${insert} VALUES (${row})`).bind(...values);
  return db.prepare(`${insert} SELECT ${row}
      WHERE (SELECT COUNT(*) FROM contents WHERE provider_id = ?2 AND state = 'uploading') < ?16
        AND (SELECT COALESCE(SUM(size), 0) FROM contents WHERE provider_id = ?2 AND state = 'uploading') + ?5 <= ?17`)
    .bind(...values, quota.uploads, quota.bytes);
}

/** How many uploads a provider has open, and the sum of their declared sizes. */
export async function openUploadsOf(db: D1Database, providerId: string): Promise<{ uploads: number; bytes: number }> {
  const row = await db.prepare("SELECT COUNT(*) AS uploads, COALESCE(SUM(size), 0) AS bytes FROM contents WHERE provider_id = ? AND state = 'uploading'")
    .bind(providerId).first<{ uploads: number; bytes: number }>();
  return { uploads: row?.uploads ?? 0, bytes: row?.bytes ?? 0 };
}

/**
 * A content's row as its manager knows it, written again whole (a registry rebuilt from the
 * managers). The manager writing it is the one in charge, so it names itself.
 */
export function restoreContent(db: D1Database, row: ContentRow): D1PreparedStatement {
  return db.prepare(`INSERT OR REPLACE INTO contents (id, provider_id, name, type, size, version, chunk_count, replicas, state, created_at,
        committed_at, visibility, min_grade, publish_at, expire_at, manager, manager_region) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
    .bind(row.id, row.provider_id, row.name, row.type, row.size, row.version, row.chunk_count, row.replicas, row.state,
      row.created_at, row.committed_at, row.visibility, row.min_grade, row.publish_at, row.expire_at, row.manager ?? null, row.manager_region ?? null);
}

/**
 * Hands a content to another manager object: only while the row still names `from`, so of two
 * hand-offs at once only one switches it (`changes` is 0 for the other, and for a content gone).
 */
export function switchManager(db: D1Database, id: string, from: string, to: string, region: string | null): D1PreparedStatement {
  return db.prepare('UPDATE contents SET manager = ?, manager_region = ? WHERE id = ? AND COALESCE(manager, id) = ?').bind(to, region, id, from);
}

/** The manager object in charge of each of the given contents (ids absent from the catalog are absent). */
export async function managersOf(db: D1Database, ids: string[]): Promise<Map<string, string>> {
  if (ids.length === 0) return new Map();
  const { results } = await db.prepare('SELECT id, COALESCE(manager, id) AS manager FROM contents WHERE id IN (SELECT value FROM json_each(?))')
    .bind(JSON.stringify([...new Set(ids)])).all<{ id: string; manager: string }>();
  return new Map(results.map((r) => [r.id, r.manager]));
}

export function markCommitted(db: D1Database, id: string, at: number): D1PreparedStatement {
  return db.prepare("UPDATE contents SET state = 'committed', committed_at = ? WHERE id = ?").bind(at, id);
}

export function markDeleting(db: D1Database, id: string): D1PreparedStatement {
  return db.prepare("UPDATE contents SET state = 'deleting' WHERE id = ?").bind(id);
}

/** The catalog entry and its placement index, together (after every replica is gone). */
export function deleteContent(db: D1Database, id: string): D1PreparedStatement[] {
  return [
    db.prepare('DELETE FROM placements WHERE content_id = ?').bind(id),
    db.prepare('DELETE FROM node_work WHERE content_id = ?').bind(id),
    db.prepare('DELETE FROM contents WHERE id = ?').bind(id),
  ];
}

/** One slice of every content id after `after`, in id order (the sweep's walk over all contents). */
export async function contentIdsAfter(db: D1Database, after: string, limit: number): Promise<string[]> {
  const { results } = await db.prepare("SELECT id FROM contents WHERE id > ? AND state != 'deleting' ORDER BY id LIMIT ?")
    .bind(after, limit).all<{ id: string }>();
  return results.map((r) => r.id);
}

/** The states of the given contents (ids absent from the catalog are absent from the map). */
export async function contentStates(db: D1Database, ids: string[]): Promise<Map<string, string>> {
  if (ids.length === 0) return new Map();
  const { results } = await db.prepare('SELECT id, state FROM contents WHERE id IN (SELECT value FROM json_each(?))')
    .bind(JSON.stringify([...new Set(ids)])).all<{ id: string; state: string }>();
  return new Map(results.map((r) => [r.id, r.state]));
}

/** The largest replica count any live content asks for: draining below it would strand copies. */
export async function maxReplicas(db: D1Database): Promise<number> {
  const row = await db.prepare("SELECT MAX(replicas) AS n FROM contents WHERE state != 'deleting'").first<{ n: number | null }>();
  return row?.n ?? 0;
}

/** The sweep asked these contents' managers to reconcile (a slice at a time). */
export function markAsked(db: D1Database, ids: string[], at: number): D1PreparedStatement {
  return db.prepare("UPDATE contents SET reconcile_asked = MAX(reconcile_asked, ?) WHERE state = 'committed' AND id IN (SELECT value FROM json_each(?))")
    .bind(at, JSON.stringify(ids));
}

/** A manager finished a pass that started at `startedAt`: what was asked before then is done. */
export function markReconciled(db: D1Database, id: string, startedAt: number): D1PreparedStatement {
  return db.prepare('UPDATE contents SET reconciled_at = MAX(reconciled_at, ?) WHERE id = ?').bind(startedAt, id);
}

/** How many contents have a reconcile pass asked of them and not yet finished. */
export async function contentsBehind(db: D1Database): Promise<number> {
  const row = await db.prepare("SELECT COUNT(*) AS n FROM contents WHERE reconcile_asked > reconciled_at AND state = 'committed'").first<{ n: number }>();
  return row?.n ?? 0;
}
