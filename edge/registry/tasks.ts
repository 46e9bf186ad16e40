// The sweep's fan-out tasks: each walks a set of contents in slices and wakes their managers.
//   all        every content (a node joined, or the periodic check of every copy)
//   node       the contents with a copy on one node (drained, down past its grace, back, retired)
//   inventory  one node's inventory, page by page: chunks nobody places (orphans), and for a
//              rebuild, the contents whose catalog rows and placements are written again
export type TaskKind = 'all' | 'node' | 'inventory';
export interface TaskRow { id: number; kind: TaskKind; node_id: string | null; reason: string; cursor: string; created_at: number; done_at: number | null }

/**
 * Opens a task, or starts an open one of the same kind (and node) over from the beginning: a
 * second join while the first walk is half done needs one walk from the start, not two.
 */
export async function openTask(db: D1Database, t: { kind: TaskKind; node?: string; reason: string; at: number }): Promise<void> {
  const node = t.node ?? null;
  const open = await db.prepare('SELECT id FROM sweep_tasks WHERE done_at IS NULL AND kind = ? AND node_id IS ? LIMIT 1')
    .bind(t.kind, node).first<{ id: number }>();
  if (open) {
    await db.prepare("UPDATE sweep_tasks SET cursor = '', reason = ?, created_at = ? WHERE id = ?").bind(t.reason, t.at, open.id).run();
  } else {
    await db.prepare('INSERT INTO sweep_tasks (kind, node_id, reason, created_at) VALUES (?, ?, ?, ?)').bind(t.kind, node, t.reason, t.at).run();
  }
}

export async function openTasks(db: D1Database): Promise<TaskRow[]> {
  const { results } = await db.prepare('SELECT * FROM sweep_tasks WHERE done_at IS NULL ORDER BY id').all<TaskRow>();
  return results;
}

/** Moves a task's cursor, if nobody restarted it meanwhile (its created_at is the version). */
export function advanceTask(db: D1Database, t: TaskRow, cursor: string, done: boolean, at: number): D1PreparedStatement {
  return db.prepare('UPDATE sweep_tasks SET cursor = ?, done_at = ? WHERE id = ? AND created_at = ?')
    .bind(cursor, done ? at : null, t.id, t.created_at);
}

/** The newest finished task of a kind (and node): when a walk last reached its end. */
export async function lastDone(db: D1Database, kind: TaskKind, node: string | null = null): Promise<number | null> {
  const row = await db.prepare('SELECT MAX(done_at) AS at FROM sweep_tasks WHERE kind = ? AND node_id IS ? AND done_at IS NOT NULL')
    .bind(kind, node).first<{ at: number | null }>();
  return row?.at ?? null;
}

export async function pendingFor(db: D1Database, kind: TaskKind, node: string | null): Promise<boolean> {
  return !!(await db.prepare('SELECT 1 AS open FROM sweep_tasks WHERE done_at IS NULL AND kind = ? AND node_id IS ? LIMIT 1').bind(kind, node).first());
}

/** Finished tasks older than `before` are forgotten. */
export function pruneTasks(db: D1Database, before: number): D1PreparedStatement {
  return db.prepare('DELETE FROM sweep_tasks WHERE done_at IS NOT NULL AND done_at < ?').bind(before);
}
