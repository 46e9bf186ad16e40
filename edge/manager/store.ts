// The manager's own SQLite: the record of one content version, its chunks, and every replica
// with its state. This is the source document's distribution-server info DB for one content;
// never assume a chunk lives in exactly one place. A chunk's row is written when the uploader
// registers it (its span computed from the plan then), never for the whole plan at open: what
// an open costs must not grow with the size it declares. Uploads opened before that have a row
// for every planned chunk, some without a hash yet; both read the same.
import type { Chunking } from '../../protocol/split.ts';

export type ContentState = 'uploading' | 'committed' | 'deleting';
export type ReplicaState = 'pending' | 'stored' | 'deleting';

export interface NodeRef { id: string; url: string; weight: number; grade?: number }

export interface ContentRecord {
  id: string; version: number; providerId: string; name: string; type: string; size: number;
  replicas: number; chunking: Chunking; chunkCount: number; state: ContentState;
  stamp: string; stampDigest: string; wrappedSecret: string; createdAt: number;
  committedAt?: number; commitStamp?: string;
  /**
   * Records made before managers read the directory at call time froze the eligible nodes here;
   * nothing reads it any more (placement runs over the registry's current directory).
   */
  nodes?: NodeRef[];
  /** absent on records made before these existed: public, rendezvous, grade 0, no window */
  visibility?: 'public' | 'private';
  placement?: 'rendezvous' | 'random';
  minGrade?: number;
  publishAt?: number;
  expireAt?: number;
  /** wandering placement (protocol/lifecycle/wander.ts): the period, and the salt that makes each content's moves its own */
  wander?: { periodMs: number; salt: string };
}

export type MediaKey = 'index' | 'indexer';
export type ChunkRow = { idx: number; off: number; len: number; sealed_len: number | null; hash: string | null };
/** `verified_at`: when the node last confirmed it holds this copy (0: never, e.g. still pending). */
export type ReplicaRow = { hash: string; node_id: string; state: ReplicaState; verified_at: number };

export class ManagerStore {
  constructor(private readonly sql: SqlStorage) {
    sql.exec(`CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS chunks (idx INTEGER PRIMARY KEY, off INTEGER NOT NULL, len INTEGER NOT NULL, sealed_len INTEGER, hash TEXT);
      CREATE INDEX IF NOT EXISTS chunks_hash ON chunks(hash);
      CREATE TABLE IF NOT EXISTS replicas (hash TEXT NOT NULL, node_id TEXT NOT NULL, state TEXT NOT NULL, updated_at INTEGER NOT NULL, PRIMARY KEY (hash, node_id));
      CREATE TABLE IF NOT EXISTS media (k TEXT PRIMARY KEY, v TEXT NOT NULL);`);
    // Managers made before copies carried their verification time get the column; their stored
    // copies count as verified when the column arrived (their upload confirmed them).
    const cols = sql.exec<{ name: string }>('SELECT name FROM pragma_table_info(?)', 'replicas').toArray().map((c) => c.name);
    if (!cols.includes('verified_at')) {
      sql.exec('ALTER TABLE replicas ADD COLUMN verified_at INTEGER NOT NULL DEFAULT 0');
      sql.exec("UPDATE replicas SET verified_at = updated_at WHERE state = 'stored'");
    }
  }

  /** A JSON value under `k` in one of the key/value tables; null or undefined deletes it. */
  private getJson<T>(table: 'meta' | 'media', k: string): T | null {
    const row = this.sql.exec<{ v: string }>(`SELECT v FROM ${table} WHERE k = ?`, k).toArray()[0];
    return row ? (JSON.parse(row.v) as T) : null;
  }

  private putJson(table: 'meta' | 'media', k: string, v: unknown): void {
    if (v === null || v === undefined) this.sql.exec(`DELETE FROM ${table} WHERE k = ?`, k);
    else this.sql.exec(`INSERT OR REPLACE INTO ${table} (k, v) VALUES (?, ?)`, k, JSON.stringify(v));
  }

  /** Small JSON values of the manager's own (its reconcile state, for one). */
  meta<T>(k: string): T | null {
    return this.getJson<T>('meta', k);
  }

  setMeta(k: string, v: unknown): void {
    this.putJson('meta', k, v);
  }

  /** JSON under `k` in the media table: 'index' (the committed seek index), 'indexer' (the edge's, mid-upload). */
  media<T>(k: MediaKey): T | null {
    return this.getJson<T>('media', k);
  }

  setMedia(k: MediaKey, v: unknown): void {
    this.putJson('media', k, v);
  }

  record(): ContentRecord | null {
    return this.meta<ContentRecord>('record');
  }

  saveRecord(r: ContentRecord): void {
    this.setMeta('record', r);
  }

  /** When the upload last made progress (open, register, confirm, gateway); null before this was kept. */
  lastActivity(): number | null {
    return this.meta<number>('active');
  }

  touch(now: number): void {
    this.setMeta('active', now);
  }

  chunk(idx: number): ChunkRow | null {
    return this.sql.exec<ChunkRow>('SELECT * FROM chunks WHERE idx = ?', idx).toArray()[0] ?? null;
  }

  /** Up to `limit` chunks from index `from` on, in order. */
  chunkSlice(from: number, limit: number): ChunkRow[] {
    return this.sql.exec<ChunkRow>('SELECT * FROM chunks WHERE idx >= ? ORDER BY idx LIMIT ?', from, limit).toArray();
  }

  chunks(): ChunkRow[] {
    return this.sql.exec<ChunkRow>('SELECT * FROM chunks ORDER BY idx').toArray();
  }

  chunkByHash(hash: string): ChunkRow | null {
    return this.sql.exec<ChunkRow>('SELECT * FROM chunks WHERE hash = ?', hash).toArray()[0] ?? null;
  }

  /** Records a registered chunk: its planned span and the hash and length it was sealed to. */
  setChunkHash(row: Pick<ChunkRow, 'idx' | 'off' | 'len'>, hash: string, sealedLen: number): void {
    this.sql.exec(
      'INSERT INTO chunks (idx, off, len, sealed_len, hash) VALUES (?, ?, ?, ?, ?) ON CONFLICT(idx) DO UPDATE SET hash = excluded.hash, sealed_len = excluded.sealed_len',
      row.idx, row.off, row.len, sealedLen, hash,
    );
  }

  replicas(hash?: string): ReplicaRow[] {
    return hash === undefined
      ? this.sql.exec<ReplicaRow>('SELECT hash, node_id, state, verified_at FROM replicas').toArray()
      : this.sql.exec<ReplicaRow>('SELECT hash, node_id, state, verified_at FROM replicas WHERE hash = ?', hash).toArray();
  }

  /** Every copy, by chunk hash: one read for a whole reconcile pass. */
  replicasByHash(): Map<string, ReplicaRow[]> {
    const out = new Map<string, ReplicaRow[]>();
    for (const r of this.replicas()) {
      const list = out.get(r.hash);
      if (list) list.push(r);
      else out.set(r.hash, [r]);
    }
    return out;
  }

  /** Sets a copy's state; `stored` means the node has just confirmed it (its verification time is now). */
  setReplica(hash: string, node: string, state: ReplicaState, now: number): void {
    this.sql.exec(
      `INSERT INTO replicas (hash, node_id, state, updated_at, verified_at) VALUES (?1, ?2, ?3, ?4, CASE WHEN ?3 = 'stored' THEN ?4 ELSE 0 END)
       ON CONFLICT(hash, node_id) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at,
         verified_at = CASE WHEN excluded.state = 'stored' THEN excluded.updated_at ELSE replicas.verified_at END`,
      hash, node, state, now,
    );
  }

  dropReplica(hash: string, node: string): void {
    this.sql.exec('DELETE FROM replicas WHERE hash = ? AND node_id = ?', hash, node);
  }

  storedCount(hash: string): number {
    return this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM replicas WHERE hash = ? AND state = 'stored'", hash).one().n;
  }

  /** Indices whose chunk has at least `need` stored replicas. */
  completeIndices(need: number): number[] {
    return [...this.complete(need)];
  }

  private *complete(need: number): Generator<number> {
    const rows = this.sql.exec<{ idx: number }>(
      `SELECT c.idx FROM chunks c JOIN replicas r ON r.hash = c.hash AND r.state = 'stored'
       GROUP BY c.idx HAVING COUNT(*) >= ? ORDER BY c.idx`, need,
    );
    for (const r of rows) yield r.idx;
  }

  completeCount(need: number): number {
    return this.sql.exec<{ n: number }>(
      `SELECT COUNT(*) AS n FROM (SELECT c.idx FROM chunks c JOIN replicas r ON r.hash = c.hash AND r.state = 'stored'
       GROUP BY c.idx HAVING COUNT(*) >= ?)`, need,
    ).one().n;
  }

  /** The first `limit` indices below `count` that are not complete, registered or not. */
  incompleteIndices(need: number, count: number, limit: number): number[] {
    const out: number[] = [];
    let next = 0;
    for (const idx of this.complete(need)) {
      while (next < idx && out.length < limit) out.push(next++);
      if (out.length >= limit) return out;
      next = idx + 1;
    }
    while (next < count && out.length < limit) out.push(next++);
    return out;
  }
}
