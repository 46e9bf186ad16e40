// What the managers still have to do, per content and node. A manager writes its rows after each
// reconcile (none when it is done); a node's backlog is the sum over contents, which is how the
// sweep knows a joining node has its share and a draining node is empty.
export interface WorkCounts { copiesIn: number; copiesOut: number; deletes: number; checks: number }
export const NO_WORK: WorkCounts = { copiesIn: 0, copiesOut: 0, deletes: 0, checks: 0 };

export function replaceWork(db: D1Database, content: string, work: Map<string, WorkCounts>, at: number): D1PreparedStatement[] {
  return [
    db.prepare('DELETE FROM node_work WHERE content_id = ?').bind(content),
    ...[...work].map(([node, w]) => db.prepare(
      'INSERT INTO node_work (content_id, node_id, copies_in, copies_out, deletes, checks, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
    ).bind(content, node, w.copiesIn, w.copiesOut, w.deletes, w.checks, at)),
  ];
}

/** A node's share of the work: summed over contents, and how many contents owe it some. */
export type NodeBacklog = WorkCounts & { contents: number };

export async function backlogByNode(db: D1Database): Promise<Map<string, NodeBacklog>> {
  const { results } = await db.prepare(
    `SELECT node_id, SUM(copies_in) AS i, SUM(copies_out) AS o, SUM(deletes) AS d, SUM(checks) AS c, COUNT(*) AS n
       FROM node_work GROUP BY node_id`,
  ).all<{ node_id: string; i: number; o: number; d: number; c: number; n: number }>();
  return new Map(results.map((r) => [r.node_id, { copiesIn: r.i, copiesOut: r.o, deletes: r.d, checks: r.c, contents: r.n }]));
}
