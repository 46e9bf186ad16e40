// The grants a manager issued for its content, and their revocations, in the manager's own
// SQLite: the grant check at every manifest request is a local read, never a registry query.
export type GrantRow = { id: string; label: string | null; exp: number; created_at: number; revoked_at: number | null };

export class GrantStore {
  constructor(private readonly sql: SqlStorage) {
    sql.exec(`CREATE TABLE IF NOT EXISTS grants (id TEXT PRIMARY KEY, label TEXT, exp INTEGER NOT NULL,
      created_at INTEGER NOT NULL, revoked_at INTEGER)`);
  }

  add(id: string, label: string | null, exp: number, now: number): void {
    this.sql.exec('INSERT INTO grants (id, label, exp, created_at) VALUES (?, ?, ?, ?)', id, label, exp, now);
  }

  get(id: string): GrantRow | null {
    return this.sql.exec<GrantRow>('SELECT * FROM grants WHERE id = ?', id).toArray()[0] ?? null;
  }

  /** Marks a grant revoked (the first revocation time stands); null when the id is unknown. */
  revoke(id: string, now: number): GrantRow | null {
    this.sql.exec('UPDATE grants SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?', now, id);
    return this.get(id);
  }
}
