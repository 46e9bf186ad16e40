// The self-hosted node's chunk store: a folder on disk (layout in disk-layout.ts).
// - Nothing partial: a chunk is written to tmp/, fsync'ed, then linked into chunks/ (link, unlike
//   rename, fails if the name exists, so two racing writers cannot both create) and the folder
//   fsync'ed. A process killed at any moment leaves no chunk or the whole chunk; tmp/ is
//   emptied at start.
// - Nothing wrong is served: a whole-chunk read is read into memory and hashed before a byte
//   goes out; a range is served from a file verified once by this process (and again whenever
//   the file changes). A file that fails is moved to corrupt/ and reported, and the request
//   answered with `chunk_corrupt`.
// - Full is an answer: a reached capacity or a disk out of space is `insufficient_storage`
//   (507), with nothing stored.
import { createHash, randomBytes } from 'node:crypto';
import { constants, type Stats } from 'node:fs';
import { link, mkdir, open, rename, stat, statfs, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { BunsanError } from '../protocol/errors.ts';
import { HASH_RE } from '../protocol/hash.ts';
import type { ChunkHead, ChunkMeta, ChunkStore, ListedChunk } from '../edge/node/chunk-store.ts';
import { ByteBudget } from './byte-budget.ts';
import { HashPool } from './hash-pool.ts';
import { chunkDir, chunkPath, decodeHeader, encodeHeader, HEADER_BYTES, layout, orderPath } from './disk-layout.ts';
import { listChunks, prepareFolder, sweepExpiredOrders } from './disk-sweep.ts';

export interface CorruptChunk { hash: string; content: string | null; why: string; at: number }

export interface DiskStoreOptions {
  dir: string;
  /** bytes of chunks the node may hold (null: as much as the disk has) */
  capacity: number | null;
  /** told of every chunk found damaged (after it is moved aside) */
  onCorrupt?: (c: CorruptChunk) => void;
  /** bytes kept free on the disk for everything else on it */
  reserve?: number;
}

export interface DiskStore extends ChunkStore {
  readonly dir: string;
  /** sealed bytes of the chunks held */
  bytesHeld(): number;
  chunksHeld(): number;
  /** bytes the disk has free for this node's use (within its capacity) */
  freeBytes(): Promise<number>;
  capacity: number | null;
  /** removes expired copy-order markers */
  sweepOrders(): Promise<number>;
}

const WHOLE_READ_BUDGET = 64 * 1024 * 1024;
const DEFAULT_RESERVE = 64 * 1024 * 1024;
const VERIFIED_MAX = 100_000;
const HEADS_MAX = 10_000;
const FULL_CODES = new Set(['ENOSPC', 'EDQUOT', 'EFBIG']);

// One pool of hashing threads per process, whatever number of stores it opens.
let sharedPool: HashPool | null = null;

const full = (why: string) => new BunsanError('insufficient_storage', why);
const tagOf = (s: Stats) => `${s.ino}:${s.mtimeMs}:${s.size}`;
const code = (err: unknown) => (err as NodeJS.ErrnoException)?.code;

export async function openDiskStore(opts: DiskStoreOptions): Promise<DiskStore> {
  const l = layout(opts.dir);
  const reserve = opts.reserve ?? DEFAULT_RESERVE;
  const { bytes, chunks } = await prepareFolder(opts.dir, l);
  let held = bytes;
  let count = chunks;
  let reserved = 0; // bytes of writes under way, counted against the capacity before they land
  const budget = new ByteBudget(WHOLE_READ_BUDGET);
  const hashes = sharedPool ??= new HashPool();
  // Files this process hashed and found whole, by the identity they had then (insertion-ordered: oldest go first).
  const verified = new Map<string, string>();
  // Heads of recently read chunks, so that a GET opens its file once, not twice. A read checks
  // the open file's identity against the head's, so a stale entry costs a 404, never wrong bytes.
  const heads = new Map<string, ChunkHead>();
  const forget = (hash: string) => { verified.delete(hash); heads.delete(hash); };

  const remember = (hash: string, tag: string) => {
    verified.delete(hash);
    verified.set(hash, tag);
    if (verified.size > VERIFIED_MAX) verified.delete(verified.keys().next().value!);
  };

  async function quarantine(hash: string, content: string | null, why: string): Promise<BunsanError> {
    forget(hash);
    const from = chunkPath(l, hash);
    try {
      const s = await stat(from);
      await rename(from, join(l.corrupt, `${hash}.${Date.now()}`));
      held -= Math.max(0, s.size - HEADER_BYTES);
      count--;
    } catch (err) {
      if (code(err) !== 'ENOENT') throw err;
    }
    opts.onCorrupt?.({ hash, content, why, at: Date.now() });
    return new BunsanError('chunk_corrupt', `this node's copy of the chunk is damaged (${why}); it is no longer served here`);
  }

  /** Reads the header of an open chunk file: its metadata, or a quarantine when it is not sound. */
  async function readHead(fh: FileHandle, hash: string): Promise<{ head: ChunkHead; stats: Stats } | null> {
    const stats = await fh.stat();
    const buf = Buffer.alloc(HEADER_BYTES);
    const { bytesRead } = await fh.read(buf, 0, HEADER_BYTES, 0);
    const h = bytesRead === HEADER_BYTES ? decodeHeader(buf) : null;
    if (!h || h.size !== stats.size - HEADER_BYTES) {
      await quarantine(hash, h?.meta.content ?? null, h ? `holds ${stats.size - HEADER_BYTES} bytes, its header says ${h.size}` : 'unreadable header');
      return null;
    }
    return { head: { size: h.size, meta: h.meta, tag: tagOf(stats) }, stats };
  }

  async function openChunk(hash: string): Promise<FileHandle | null> {
    try {
      return await open(chunkPath(l, hash), constants.O_RDONLY);
    } catch (err) {
      if (code(err) === 'ENOENT') return null;
      throw err;
    }
  }

  /** Hashes the body of an open file in pieces, never all of it in memory. */
  async function hashFile(fh: FileHandle, size: number): Promise<string> {
    const h = createHash('sha256');
    const piece = Buffer.allocUnsafe(Math.min(size, 1024 * 1024) || 1);
    for (let o = 0; o < size;) {
      const { bytesRead } = await fh.read(piece, 0, Math.min(piece.length, size - o), HEADER_BYTES + o);
      if (bytesRead === 0) break;
      h.update(piece.subarray(0, bytesRead));
      o += bytesRead;
    }
    return h.digest('hex');
  }

  async function readWhole(fh: FileHandle, hash: string, head: ChunkHead): Promise<Uint8Array> {
    await budget.take(head.size);
    try {
      // Owns its memory (not a slice of Buffer's pool), so that it can travel to a hashing thread.
      const body = Buffer.allocUnsafeSlow(head.size);
      for (let o = 0; o < head.size;) {
        const { bytesRead } = await fh.read(body, o, head.size - o, HEADER_BYTES + o);
        if (bytesRead === 0) throw await quarantine(hash, head.meta?.content ?? null, 'shorter than its header says');
        o += bytesRead;
      }
      const hashed = await hashes.hash(body);
      if (hashed.hex !== hash) throw await quarantine(hash, head.meta?.content ?? null, 'does not hash to its name');
      remember(hash, head.tag);
      return hashed.body;
    } finally {
      budget.give(head.size);
    }
  }

  async function writeTemp(tmp: string, header: Buffer, body: Uint8Array): Promise<void> {
    const fh = await open(tmp, 'wx', 0o600);
    try {
      await fh.writev([header, body]);
      await fh.sync();
    } finally {
      await fh.close();
    }
  }

  async function syncDir(dir: string): Promise<void> {
    const fh = await open(dir, constants.O_RDONLY);
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  }

  async function diskFree(): Promise<number> {
    const s = await statfs(opts.dir);
    return Number(s.bavail) * Number(s.bsize);
  }

  const store: DiskStore = {
    dir: opts.dir,
    capacity: opts.capacity,
    bytesHeld: () => held,
    chunksHeld: () => count,
    async freeBytes() {
      const disk = Math.max(0, (await diskFree()) - reserve);
      return opts.capacity === null ? disk : Math.max(0, Math.min(disk, opts.capacity - held));
    },

    async head(hash) {
      const known = heads.get(hash);
      if (known) return known;
      const fh = await openChunk(hash);
      if (!fh) return null;
      try {
        const head = (await readHead(fh, hash))?.head ?? null;
        if (head) {
          heads.set(hash, head);
          if (heads.size > HEADS_MAX) heads.delete(heads.keys().next().value!);
        }
        return head;
      } finally {
        await fh.close();
      }
    },

    async read(hash, head, range) {
      const fh = await openChunk(hash);
      if (!fh) {
        forget(hash);
        return null;
      }
      let handedOff = false;
      try {
        // The open file is the one served: a delete or a new version after this point does not
        // change it. Same identity as at the head: the header read then still holds.
        if (tagOf(await fh.stat()) !== head.tag) {
          forget(hash);
          return null;
        }
        if (!range) return await readWhole(fh, hash, head);
        if (verified.get(hash) !== head.tag) {
          if ((await hashFile(fh, head.size)) !== hash) throw await quarantine(hash, head.meta?.content ?? null, 'does not hash to its name');
          remember(hash, head.tag);
        }
        const start = HEADER_BYTES + range.offset;
        const stream = fh.createReadStream({ start, end: start + range.length - 1, highWaterMark: 256 * 1024, autoClose: true });
        handedOff = true;
        return Readable.toWeb(stream) as unknown as ReadableStream<Uint8Array>;
      } finally {
        if (!handedOff) await fh.close();
      }
    },

    async create(hash, body, meta: ChunkMeta) {
      if (await openChunk(hash).then(async (fh) => { await fh?.close(); return fh !== null; })) return false;
      const size = body.byteLength;
      if (opts.capacity !== null && held + reserved + size > opts.capacity) {
        throw full(`this node holds ${held} of its ${opts.capacity} bytes and cannot take ${size} more`);
      }
      if ((await diskFree()) - reserved - size - HEADER_BYTES < reserve) throw full('the disk is out of space');
      reserved += size;
      const tmp = join(l.tmp, `${hash}.${randomBytes(6).toString('hex')}`);
      try {
        await writeTemp(tmp, encodeHeader(meta, size), body);
        const dir = chunkDir(l, hash);
        await mkdir(dir, { recursive: true });
        try {
          await link(tmp, chunkPath(l, hash));
        } catch (err) {
          if (code(err) === 'EEXIST') return false;
          throw err;
        }
        await syncDir(dir);
        held += size;
        count++;
        heads.delete(hash);
        remember(hash, tagOf(await stat(chunkPath(l, hash))));
        return true;
      } catch (err) {
        if (FULL_CODES.has(code(err) ?? '')) throw full('the disk is out of space');
        throw err;
      } finally {
        reserved -= size;
        await unlink(tmp).catch(() => {});
      }
    },

    async remove(hashes) {
      for (const hash of hashes) {
        const path = chunkPath(l, hash);
        try {
          const s = await stat(path);
          await unlink(path);
          held -= Math.max(0, s.size - HEADER_BYTES);
          count--;
          forget(hash);
        } catch (err) {
          if (code(err) !== 'ENOENT') throw err;
        }
      }
    },

    async list(cursor, limit): Promise<{ chunks: ListedChunk[]; cursor: string | null }> {
      if (cursor !== undefined && !HASH_RE.test(cursor)) throw new BunsanError('bad_request', 'cursor is not valid');
      const hashes = await listChunks(l, cursor, limit + 1);
      const page = hashes.slice(0, limit);
      const chunks: ListedChunk[] = [];
      for (const hash of page) {
        const head = await store.head(hash);
        if (head) chunks.push({ hash, size: head.size, content: head.meta?.content ?? null });
      }
      return { chunks, cursor: hashes.length > limit ? page[page.length - 1] : null };
    },

    async claimOnce(name, expiresAt) {
      const path = orderPath(l, name);
      await mkdir(join(path, '..'), { recursive: true });
      try {
        const fh = await open(path, 'wx', 0o600);
        try {
          await fh.writeFile(String(expiresAt));
          await fh.sync();
        } finally {
          await fh.close();
        }
        return true;
      } catch (err) {
        if (code(err) === 'EEXIST') return false;
        if (FULL_CODES.has(code(err) ?? '')) throw full('the disk is out of space');
        throw err;
      }
    },

    sweepOrders: () => sweepExpiredOrders(l, Date.now()),
  };
  return store;
}
