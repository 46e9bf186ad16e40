// The manager's queue of replica audits. A client's chunk report (a node served bytes that failed
// verification) asks the manager to look for itself; the audit runs from the alarm, is retried
// while the node is unreachable, and its outcome is kept so that a flood of reports about the
// same replica costs one audit per quiet period, not one per report.
import type { AuditOutcome } from '../../protocol/api.ts';

/** After an audit finished, more reports about the same replica within this time change nothing. */
export const AUDIT_QUIET_MS = 10 * 60_000;
/**
 * Reports need no credential and each audit reads a whole chunk: at most this many wait at once
 * (more are refused until some finish), and one alarm runs at most AUDITS_PER_ALARM of them
 * (the alarm is set again for the rest).
 */
export const MAX_PENDING_AUDITS = 32;
export const AUDITS_PER_ALARM = 8;
/** An unreachable node is asked again after 30 s, 60 s, 120 s, … at most this many times. */
export const AUDIT_ATTEMPTS = 5;
const RETRY_BASE_MS = 30_000;

export type AuditRow = {
  hash: string; node_id: string; idx: number; code: string; queued_at: number;
  /** when the next attempt is due; null once finished */
  due_at: number | null;
  attempts: number; outcome: AuditOutcome | null; done_at: number | null;
  /** where the verified copy went when the replica was replaced */
  target: string | null;
};

export class AuditStore {
  constructor(private readonly sql: SqlStorage) {
    sql.exec(`CREATE TABLE IF NOT EXISTS audits (hash TEXT NOT NULL, node_id TEXT NOT NULL, idx INTEGER NOT NULL, code TEXT NOT NULL,
      queued_at INTEGER NOT NULL, due_at INTEGER, attempts INTEGER NOT NULL DEFAULT 0, outcome TEXT, done_at INTEGER, target TEXT,
      PRIMARY KEY (hash, node_id))`);
  }

  /** Queues an audit; false when one is pending or finished within the quiet period. */
  queue(a: { idx: number; hash: string; node: string; code: string }, now: number): boolean {
    const row = this.get(a.hash, a.node);
    if (row && (row.due_at !== null || (row.done_at ?? 0) > now - AUDIT_QUIET_MS)) return false;
    if (this.sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM audits WHERE due_at IS NOT NULL').one().n >= MAX_PENDING_AUDITS) return false;
    this.sql.exec(
      `INSERT OR REPLACE INTO audits (hash, node_id, idx, code, queued_at, due_at, attempts, outcome, done_at, target)
       VALUES (?, ?, ?, ?, ?, ?, 0, NULL, NULL, NULL)`, a.hash, a.node, a.idx, a.code, now, now,
    );
    return true;
  }

  get(hash: string, node: string): AuditRow | null {
    return this.sql.exec<AuditRow>('SELECT * FROM audits WHERE hash = ? AND node_id = ?', hash, node).toArray()[0] ?? null;
  }

  due(now: number): AuditRow[] {
    return this.sql.exec<AuditRow>('SELECT * FROM audits WHERE due_at IS NOT NULL AND due_at <= ? ORDER BY due_at LIMIT ?', now, AUDITS_PER_ALARM).toArray();
  }

  nextDue(): number | null {
    return this.sql.exec<{ at: number | null }>('SELECT MIN(due_at) AS at FROM audits').one().at;
  }

  /** Another attempt later, or the given outcome once the attempts are used up. */
  retry(row: AuditRow, now: number, last: AuditOutcome): void {
    const attempts = row.attempts + 1;
    if (attempts >= AUDIT_ATTEMPTS) return this.finish(row, last, now);
    this.sql.exec('UPDATE audits SET attempts = ?, due_at = ? WHERE hash = ? AND node_id = ?',
      attempts, now + RETRY_BASE_MS * 2 ** (attempts - 1), row.hash, row.node_id);
  }

  finish(row: AuditRow, outcome: AuditOutcome, now: number, target: string | null = null): void {
    this.sql.exec('UPDATE audits SET attempts = ?, due_at = NULL, outcome = ?, done_at = ?, target = ? WHERE hash = ? AND node_id = ?',
      row.attempts + 1, outcome, now, target, row.hash, row.node_id);
  }

  list(): AuditRow[] {
    return this.sql.exec<AuditRow>('SELECT * FROM audits ORDER BY queued_at DESC LIMIT 100').toArray();
  }
}
