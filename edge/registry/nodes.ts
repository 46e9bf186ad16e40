// The node directory: every distribution node, its state and why, its health as the sweep saw
// it, its capacity and what it holds. Flows change a node's state only through setNodeState, so
// that each change carries its reason and its time.
import type { NodeState } from '../../protocol/lifecycle/node-state.ts';

export interface NodeRow {
  id: string; url: string; region: string; grade: number; weight: number; state: NodeState;
  state_reason: string; state_since: number; prior_state: NodeState | null;
  capacity: number | null; bytes_held: number; chunks_held: number;
  last_seen_at: number | null; last_check_at: number | null; failures: number; last_error: string | null;
  lost_at: number | null; recovered_at: number | null; inventory_cursor: string | null; inventory_pass_at: number | null;
  created_at: number; updated_at: number;
  /** self-hosted nodes (migration 0005): their key, and their latest signed report */
  public_key: string | null; signed_at: number | null; report_at: number | null;
  report_capacity: number | null; report_held: number | null; report_chunks: number | null;
  report_free: number | null; report_served: number | null; report_version: string | null;
  /** demand (migration 0007): a standby-pool mirror, its egress (bytes/s; null: the default), its smoothed load, hot */
  mirror: number; egress: number | null; load: number; load_at: number | null; hot: number;
}

/** Every node, retired ones too unless asked otherwise, in id order. */
export async function listNodes(db: D1Database, o: { withRetired?: boolean } = {}): Promise<NodeRow[]> {
  const { results } = await db.prepare(`SELECT * FROM nodes ${o.withRetired === false ? "WHERE state != 'retired'" : ''} ORDER BY id`).all<NodeRow>();
  return results;
}

export async function getNode(db: D1Database, id: string): Promise<NodeRow | null> {
  return db.prepare('SELECT * FROM nodes WHERE id = ?').bind(id).first<NodeRow>();
}

export interface NodeFields {
  id: string; url: string; region: string; grade: number; weight: number; capacity?: number | null;
  egress?: number | null;
  /** of the standby pool of mirrors (set when the node is added, kept after) */
  mirror?: boolean;
}

/** A new node (or a retired one coming back under the same id) in `state`. */
export function insertNode(db: D1Database, n: NodeFields, state: NodeState, reason: string, now: number): D1PreparedStatement {
  return db.prepare(
    `INSERT INTO nodes (id, url, region, grade, weight, capacity, state, state_reason, state_since, created_at, updated_at, egress, mirror)
       VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9, ?9, ?10, ?11)
     ON CONFLICT(id) DO UPDATE SET url = ?2, region = ?3, grade = ?4, weight = ?5, capacity = ?6, state = ?7, state_reason = ?8,
       state_since = ?9, prior_state = NULL, failures = 0, last_error = NULL, lost_at = NULL, updated_at = ?9, egress = ?10, mirror = ?11,
       load = 0, hot = 0`,
  ).bind(n.id, n.url, n.region, n.grade, n.weight, n.capacity ?? null, state, reason, now, n.egress ?? null, n.mirror ? 1 : 0);
}

/** A node's attributes (where it is, how much it should take), its state left as it is. */
export function updateNodeFields(db: D1Database, n: NodeFields, now: number): D1PreparedStatement {
  return db.prepare('UPDATE nodes SET url = ?, region = ?, grade = ?, weight = ?, capacity = ?, egress = ?, updated_at = ? WHERE id = ?')
    .bind(n.url, n.region, n.grade, n.weight, n.capacity ?? null, n.egress ?? null, now, n.id);
}

/** A state change. `prior` is kept for a node going down, so it returns to what it was. */
export function setNodeState(db: D1Database, id: string, state: NodeState, reason: string, now: number, prior: NodeState | null = null): D1PreparedStatement {
  return db.prepare('UPDATE nodes SET state = ?, state_reason = ?, state_since = ?, prior_state = ?, lost_at = NULL, updated_at = ? WHERE id = ?')
    .bind(state, reason, now, prior, now, id);
}

/**
 * The same, only if the node is still in the state the caller saw (`from`, since `since`): the
 * sweep decides from a snapshot, and an operator's drain that lands meanwhile must win. 0
 * changes: the node moved on, nothing was written.
 */
export function setNodeStateIf(
  db: D1Database, id: string, from: { state: NodeState; since: number }, state: NodeState, reason: string, now: number, prior: NodeState | null = null,
): D1PreparedStatement {
  return db.prepare(`UPDATE nodes SET state = ?, state_reason = ?, state_since = ?, prior_state = ?, lost_at = NULL, updated_at = ?
      WHERE id = ? AND state = ? AND state_since = ?`)
    .bind(state, reason, now, prior, now, id, from.state, from.since);
}

/** One health check's result: a success clears the failure count, a failure adds to it. */
export function recordHealth(db: D1Database, id: string, now: number, error: string | null): D1PreparedStatement {
  return error === null
    ? db.prepare('UPDATE nodes SET last_check_at = ?1, last_seen_at = ?1, failures = 0, last_error = NULL WHERE id = ?2').bind(now, id)
    : db.prepare('UPDATE nodes SET last_check_at = ?1, failures = failures + 1, last_error = ?2 WHERE id = ?3').bind(now, error.slice(0, 200), id);
}

/** The sweep's reading of what a node delivered: its smoothed load (bytes/s) and whether it runs hot. */
export function recordLoad(db: D1Database, id: string, load: number, hot: boolean, at: number): D1PreparedStatement {
  return db.prepare('UPDATE nodes SET load = ?, hot = ?, load_at = ? WHERE id = ?').bind(load, hot ? 1 : 0, at, id);
}

export function markLost(db: D1Database, id: string, now: number): D1PreparedStatement {
  return db.prepare('UPDATE nodes SET lost_at = ? WHERE id = ?').bind(now, id);
}

/** Chunks and bytes each node holds by the placement index, written into the directory. */
export function refreshUsage(db: D1Database): D1PreparedStatement {
  return db.prepare(`UPDATE nodes SET
      chunks_held = (SELECT COUNT(*) FROM placements p WHERE p.node_id = nodes.id AND p.state = 'stored'),
      bytes_held = (SELECT COALESCE(SUM(bytes), 0) FROM placements p WHERE p.node_id = nodes.id AND p.state = 'stored')`);
}

export function setInventoryCursor(db: D1Database, id: string, cursor: string | null, passAt: number | null): D1PreparedStatement {
  return db.prepare('UPDATE nodes SET inventory_cursor = ?, inventory_pass_at = COALESCE(?, inventory_pass_at) WHERE id = ?').bind(cursor, passAt, id);
}

// --- Self-hosted nodes (migration 0005): the key a node made for itself, and what it reports,
// signed with that key. `signed_at` is the time inside the newest signed message accepted, so
// each statement below refuses (changes nothing) a message that is not newer: a replay.

export function setNodeKey(db: D1Database, id: string, publicKey: string): D1PreparedStatement {
  return db.prepare('UPDATE nodes SET public_key = ? WHERE id = ?').bind(publicKey, id);
}

export interface NodeReportFields { capacity: number | null; held: number; chunks: number; free: number; served: number; version: string }

/** The node's latest report; `at` is the node's signing time, `now` the portal's. 0 changes: a replay. */
export function recordReport(db: D1Database, id: string, at: number, now: number, r: NodeReportFields): D1PreparedStatement {
  return db.prepare(
    `UPDATE nodes SET signed_at = ?1, report_at = ?2, report_capacity = ?3, report_held = ?4, report_chunks = ?5, report_free = ?6,
       report_served = ?7, report_version = ?8 WHERE id = ?9 AND (signed_at IS NULL OR signed_at < ?1)`,
  ).bind(at, now, r.capacity, r.held, r.chunks, r.free, r.served, r.version, id);
}

/** Accepts a signed message other than a report (a drain request). 0 changes: a replay. */
export function acceptSigned(db: D1Database, id: string, at: number): D1PreparedStatement {
  return db.prepare('UPDATE nodes SET signed_at = ?1 WHERE id = ?2 AND (signed_at IS NULL OR signed_at < ?1)').bind(at, id);
}

/** When the node last reported (the portal's clock); null if it never did or is not self-hosted. */
export async function lastReportAt(db: D1Database, id: string): Promise<number | null> {
  const row = await db.prepare('SELECT report_at FROM nodes WHERE id = ?').bind(id).first<{ report_at: number | null }>();
  return row?.report_at ?? null;
}

/**
 * Self-hosted nodes that serve or take copies but have not reported since `since` (or never, and
 * joined before it): the sweep treats them like nodes that fail their health checks.
 */
export async function silentSelfHostedNodes(db: D1Database, since: number): Promise<{ id: string; report_at: number | null }[]> {
  const { results } = await db.prepare(
    `SELECT id, report_at FROM nodes WHERE public_key IS NOT NULL AND state IN ('joining', 'active', 'draining')
       AND COALESCE(report_at, created_at) < ? ORDER BY id`,
  ).bind(since).all<{ id: string; report_at: number | null }>();
  return results;
}

/**
 * Chunks on `id` whose other verified copies, on nodes that take copies, fall short of their
 * content's replica count: the copies a retire would lose.
 */
export async function copiesOnlyOn(db: D1Database, id: string): Promise<number> {
  const row = await db.prepare(
    `SELECT COUNT(*) AS n FROM placements p JOIN contents c ON c.id = p.content_id
      WHERE p.node_id = ?1 AND p.state = 'stored' AND c.state != 'deleting'
        AND (SELECT COUNT(*) FROM placements q JOIN nodes o ON o.id = q.node_id
              WHERE q.hash = p.hash AND q.node_id != ?1 AND q.state = 'stored' AND o.state IN ('joining', 'active')) < c.replicas`,
  ).bind(id).first<{ n: number }>();
  return row?.n ?? 0;
}

/** The node came back from down: copies it held before now are checked before they serve. */
export function markRecovered(db: D1Database, id: string, now: number): D1PreparedStatement {
  return db.prepare('UPDATE nodes SET recovered_at = ? WHERE id = ?').bind(now, id);
}
