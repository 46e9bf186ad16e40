// Invitations of self-hosted nodes (node_invites): one-time join tokens, stored as SHA-256
// digests only, each good for one node until it expires.
export interface InviteRow {
  token_hash: string; region: string; grade: number; capacity: number | null;
  created_at: number; expires_at: number; used_at: number | null; node_id: string | null;
}

export function createInvite(db: D1Database, i: { tokenHash: string; region: string; grade: number; capacity: number | null; at: number; expiresAt: number }): D1PreparedStatement {
  return db.prepare('INSERT INTO node_invites (token_hash, region, grade, capacity, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)')
    .bind(i.tokenHash, i.region, i.grade, i.capacity, i.at, i.expiresAt);
}

export function getInvite(db: D1Database, tokenHash: string): Promise<InviteRow | null> {
  return db.prepare('SELECT * FROM node_invites WHERE token_hash = ?').bind(tokenHash).first<InviteRow>();
}

/** Marks the invitation used by `nodeId`; false when it was used (or expired) first — only one joiner wins. */
export async function useInvite(db: D1Database, tokenHash: string, nodeId: string, now: number): Promise<boolean> {
  const r = await db.prepare('UPDATE node_invites SET used_at = ?1, node_id = ?2 WHERE token_hash = ?3 AND used_at IS NULL AND expires_at > ?1')
    .bind(now, nodeId, tokenHash).run();
  return r.meta.changes === 1;
}
