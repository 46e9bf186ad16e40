// Providers and their API tokens (stored as SHA-256 digests only).
export async function providerForTokenHash(db: D1Database, tokenHash: string): Promise<string | null> {
  const row = await db.prepare('SELECT provider_id FROM api_tokens WHERE token_hash = ? AND revoked_at IS NULL')
    .bind(tokenHash).first<{ provider_id: string }>();
  return row?.provider_id ?? null;
}

export function createProvider(db: D1Database, p: { id: string; name: string; tokenHash: string; at: number }): D1PreparedStatement[] {
  return [
    db.prepare('INSERT INTO providers (id, name, created_at) VALUES (?, ?, ?)').bind(p.id, p.name, p.at),
    db.prepare('INSERT INTO api_tokens (token_hash, provider_id, created_at) VALUES (?, ?, ?)').bind(p.tokenHash, p.id, p.at),
  ];
}
