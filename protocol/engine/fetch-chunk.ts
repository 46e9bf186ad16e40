// One request for one chunk from one node, with every check a response must pass before its
// bytes are trusted: status 200, the node's upload stamp equals the manifest's, the body is no
// longer than the manifest says, its SHA-256 is the chunk's address, and it decrypts.
import { concatBytes } from '../bytes.ts';
import { openChunk, type KeyContext } from '../chunk-crypto.ts';
import type { CryptoLike } from '../crypto-like.ts';
import { BunsanError } from '../errors.ts';
import { sha256Hex } from '../hash.ts';
import type { ManifestChunk } from '../manifest.ts';
import { chunkUrl, STAMP_HEADER } from '../node-protocol.ts';

export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

export interface ChunkSource {
  crypto: CryptoLike;
  fetch: FetchLike;
  key: CryptoKey;
  keyCtx: KeyContext;
  /** download token, sent in the query string (see chunkRequest) */
  token: string;
}

/** Told as a response comes in: the scheduler measures speed and spots stalls from it. */
export interface ChunkProgress {
  headers(): void;
  bytes(n: number): void;
}

/**
 * A transfer the network cut short (a reset, a dead node): `partial` holds the bytes that did
 * arrive, from the chunk's first byte, so another replica can be asked for the rest only.
 */
export class CutShort extends BunsanError {
  constructor(message: string, readonly partial: Uint8Array) {
    super('node_unreachable', message);
  }
}

export interface FetchedChunk {
  plain: Uint8Array;
  /** ciphertext bytes received */
  bytes: number;
}

/**
 * `prefix`: the chunk's first bytes, already received from another replica before its transfer
 * was cut short; only the rest is asked for (a byte range), and the whole is verified.
 */
export async function fetchChunk(
  src: ChunkSource, chunk: ManifestChunk, nodeUrl: string, signal: AbortSignal, progress?: ChunkProgress, prefix?: Uint8Array,
): Promise<FetchedChunk> {
  const asked = prefix?.length ?? 0;
  let res: Response;
  try {
    res = await src.fetch(...chunkRequest(nodeUrl, chunk.hash, src.token, asked, signal));
  } catch (err) {
    if (signal.aborted) throw err;
    throw new BunsanError('node_unreachable', `request failed: ${(err as Error)?.message ?? String(err)}`);
  }
  progress?.headers();
  // A node that ignores the range sends the whole chunk: fine, the prefix is not needed then.
  const from = res.status === 200 ? 0 : asked;
  const range = `bytes ${from}-${chunk.sealedLength - 1}/${chunk.sealedLength}`;
  if (res.status !== (from > 0 ? 206 : 200) || (from > 0 && res.headers.get('content-range') !== range)) {
    await discard(res);
    throw new BunsanError(statusCode(res.status), `node answered HTTP ${res.status}${from > 0 ? ` to a range from ${from}` : ''}`);
  }
  if (res.headers.get(STAMP_HEADER) !== src.keyCtx.stampDigest) {
    await discard(res);
    throw new BunsanError('stamp_mismatch', `chunk ${chunk.index} is stored under another upload stamp`);
  }
  const rest = await readAtMost(res, chunk.sealedLength - from, chunk.index, signal, progress, from > 0 ? prefix : undefined);
  const sealed = from > 0 ? concatBytes([prefix!, rest]) : rest;
  if (sealed.length !== chunk.sealedLength || (await sha256Hex(src.crypto, sealed)) !== chunk.hash) {
    // Stitched from two replicas, it is not known which one was wrong: the caller starts over.
    throw new BunsanError('integrity_failed', `chunk ${chunk.index} does not hash to its address`, from > 0 ? { resumedAt: from } : undefined);
  }
  const plain = await openChunk(src.crypto, src.key, src.keyCtx, chunk.index, sealed);
  if (plain.length !== chunk.length) {
    throw new BunsanError('integrity_failed', `chunk ${chunk.index} has the wrong length`);
  }
  return { plain, bytes: sealed.length };
}

/**
 * The request for a chunk, from `from` on. Nodes live on other origins than the page: the token
 * goes in the query (`?t=`, which nodes accept beside the Authorization header) and the only
 * header is a single open-ended Range, which the Fetch standard lists as CORS-safelisted. So
 * the browser sends it as a simple request, without an OPTIONS preflight before every chunk.
 *
 * `cache: 'no-store'`: every chunk request goes to the node. The engine's own window and the
 * offline store are the client's caches; a browser HTTP cache answering from disk would make a
 * node look as fast as the disk (ranking learns from every transfer), and would write every
 * byte of ciphertext a second time on a phone or TV that streams gigabytes.
 */
export function chunkRequest(nodeUrl: string, hash: string, token: string, from: number, signal?: AbortSignal): [string, RequestInit] {
  const url = `${chunkUrl(nodeUrl, hash)}?t=${encodeURIComponent(token)}`;
  return [url, { ...(from > 0 ? { headers: { range: `bytes=${from}-` } } : {}), cache: 'no-store', signal }];
}

function statusCode(status: number) {
  if (status === 404) return 'chunk_not_found' as const;
  if (status === 401) return 'token_invalid' as const;
  if (status === 403) return 'forbidden' as const;
  return 'node_unreachable' as const;
}

async function discard(res: Response): Promise<void> {
  try {
    await res.body?.cancel();
  } catch {
    // the connection is being dropped anyway
  }
}

/**
 * Reads the body but stops a node that sends more than the chunk can be (memory bound). A read
 * the network breaks (not our abort) throws CutShort with what arrived, after `prefix`.
 */
async function readAtMost(
  res: Response, max: number, index: number, signal: AbortSignal, progress?: ChunkProgress, prefix?: Uint8Array,
): Promise<Uint8Array> {
  if (!res.body) return new Uint8Array(0);
  const reader = res.body.getReader();
  const parts: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    let step: ReadableStreamReadResult<Uint8Array>;
    try {
      step = await reader.read();
    } catch (err) {
      if (signal.aborted) throw err;
      const got = concatBytes(prefix ? [prefix, ...parts] : parts);
      throw new CutShort(`transfer cut short after ${total} bytes: ${(err as Error)?.message ?? String(err)}`, got);
    }
    const { done, value } = step;
    if (done) break;
    total += value.length;
    progress?.bytes(value.length);
    if (total > max) {
      await reader.cancel().catch(() => {});
      throw new BunsanError('integrity_failed', `chunk ${index} is longer than the manifest says`);
    }
    parts.push(value);
  }
  return parts.length === 1 ? parts[0] : concatBytes(parts);
}
