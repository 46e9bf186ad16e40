// What a node keeps, whatever it keeps it in: R2 in the Worker (r2-store.ts), a directory on
// disk in the self-hosted node (selfhost/disk-store.ts). The node application speaks the
// protocol over this interface alone, so both platforms answer with the same code.

/** The content id, upload-stamp digest and content version a chunk was stored under. */
export interface ChunkMeta { content: string; stamp: string; version: string }

export interface ChunkHead {
  /** sealed bytes */
  size: number;
  /** null: the object is there but not shaped like a chunk of ours (nothing to serve) */
  meta: ChunkMeta | null;
  /** identity of this stored version: a read is refused if the object changed since the head */
  tag: string;
}

export interface ListedChunk { hash: string; size: number; content: string | null }

export interface ChunkStore {
  head(hash: string): Promise<ChunkHead | null>;
  /**
   * The bytes of the version `head` described, all of them or `range` (offset, length); null
   * when it changed or vanished since. A store that can hold damaged bytes checks them here and
   * throws `chunk_corrupt` rather than return bytes that do not hash to the name.
   */
  read(hash: string, head: ChunkHead, range: { offset: number; length: number } | null): Promise<ReadableStream<Uint8Array> | Uint8Array | null>;
  /** Keeps `body` (already checked to hash to `hash`) unless the chunk exists: true when it was created. */
  create(hash: string, body: Uint8Array, meta: ChunkMeta): Promise<boolean>;
  /** Removes what is there of these (at most 1000); absent ones are no error. */
  remove(hashes: string[]): Promise<void>;
  /** A page of chunks in hash order; `cursor` is what the previous page returned (bad_request if not one). */
  list(cursor: string | undefined, limit: number): Promise<{ chunks: ListedChunk[]; cursor: string | null }>;
  /** Claims a single-use name (a copy order's nonce) until `expiresAt` (ms): false if already claimed. */
  claimOnce(name: string, expiresAt: number): Promise<boolean>;
}
