// A manager's whole state, as the rows of its SQLite tables (ManagerStore's meta, chunks,
// replicas, media; GrantStore's grants; AuditStore's audits; and any table added later), sent
// in pages so that a large content does not make one message too big. The receiving object
// writes them in a fixed order of steps — begin (wipe), pages, finish (counts checked) — each
// one transaction; until finish it holds an incomplete copy that counts for nothing, and a
// retry begins again over it.

import { BunsanError } from '../../protocol/errors.ts';

/** Rows per page: small enough for one RPC message even with long meta values. */
export const SNAPSHOT_PAGE_ROWS = 1000;

/** Meta keys that say what this object is, not what the content is: never copied. */
export const OWN_META = ['self', 'forward', 'standby'];

export type Row = Record<string, SqlStorageValue>;
export interface SnapshotPage { table: string; rows: Row[] }

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The manager's own tables (SQLite's and the platform's left out). */
export function stateTables(sql: SqlStorage): string[] {
  return sql.exec<{ name: string }>(
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '\\_cf\\_%' ESCAPE '\\' ORDER BY name",
  ).toArray().map((r) => r.name).filter((n) => IDENT.test(n));
}

const ownMetaClause = `k NOT IN (${OWN_META.map((k) => `'${k}'`).join(', ')})`;
/** The condition that leaves this object's own meta out (true for every other table). */
const contentOnly = (table: string) => (table === 'meta' ? ownMetaClause : '1');
const contentRows = (table: string) => ` WHERE ${contentOnly(table)}`;

/** Every page of every table, read in rowid order. */
export function* exportPages(sql: SqlStorage): Generator<SnapshotPage> {
  for (const table of stateTables(sql)) {
    let after = -Infinity;
    for (;;) {
      const rows = sql.exec<Row & { __rowid: number }>(
        `SELECT rowid AS __rowid, * FROM ${table} WHERE rowid > ? AND ${contentOnly(table)} ORDER BY rowid LIMIT ?`, after, SNAPSHOT_PAGE_ROWS,
      ).toArray();
      if (rows.length === 0) break;
      after = rows[rows.length - 1].__rowid;
      yield { table, rows: rows.map(({ __rowid: _, ...r }) => r) };
      if (rows.length < SNAPSHOT_PAGE_ROWS) break;
    }
  }
}

/** Rows per table, as the sender counted them: the receiver checks it holds exactly these. */
export function rowCounts(sql: SqlStorage): Record<string, number> {
  return Object.fromEntries(stateTables(sql).map((t) => [t, sql.exec<{ n: number }>(`SELECT COUNT(*) AS n FROM ${t}${contentRows(t)}`).one().n]));
}

/** Empties every table of content state (this object's own meta stays). */
export function wipeContent(sql: SqlStorage): void {
  for (const t of stateTables(sql)) sql.exec(`DELETE FROM ${t}${contentRows(t)}`);
}

export function importPage(sql: SqlStorage, page: SnapshotPage): void {
  if (!stateTables(sql).includes(page.table)) throw new BunsanError('conflict', `the receiving manager has no table ${page.table}`);
  for (const row of page.rows) {
    const cols = Object.keys(row);
    if (!cols.every((c) => IDENT.test(c))) throw new BunsanError('conflict', `a column of ${page.table} has a name this manager does not take`);
    if (page.table === 'meta' && OWN_META.includes(String(row.k))) continue;
    sql.exec(`INSERT OR REPLACE INTO ${page.table} (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`, ...cols.map((c) => row[c]));
  }
}

/** The tables whose row count differs from the sender's, with both counts. */
export function countMismatches(sql: SqlStorage, expected: Record<string, number>): string[] {
  const here = rowCounts(sql);
  const names = new Set([...Object.keys(here), ...Object.keys(expected)]);
  return [...names].filter((t) => (here[t] ?? 0) !== (expected[t] ?? 0)).map((t) => `${t}: ${here[t] ?? 0} of ${expected[t] ?? 0}`);
}
