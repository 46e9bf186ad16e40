// bunsan upload FILE: direct mode (seal and split here, chunks straight to the nodes) or
// --gateway (plain bytes through the portal, sealed at the edge). Both resume.
import { webcrypto } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { Readable } from 'node:stream';
import type { ApiClient } from '../../protocol/api-client.ts';
import { ManagerRegion, WANDER_MAX_SECONDS, WANDER_MIN_SECONDS, type OpenUploadRequest, type UploadSession } from '../../protocol/api.ts';
import type { CryptoLike } from '../../protocol/crypto-like.ts';
import type { MediaIndex } from '../../protocol/media/media-index.ts';
import { BunsanError } from '../../protocol/errors.ts';
import { declaredType } from '../../protocol/serve/media-type.ts';
import { chunkPlan, DEFAULT_CHUNK, MAX_CHUNK, MIN_CHUNK } from '../../protocol/split.ts';
import { uploadDirect } from '../../protocol/upload/direct.ts';
import type { CommandContext } from '../main.ts';
import { durationFlag } from '../duration.ts';
import { progressBar } from '../progress.ts';
import { forgetUpload, rememberUpload, rememberedUpload, uploadKey } from '../upload-state.ts';

const cryptoLike = webcrypto as unknown as CryptoLike;
/** Chunks per gateway request: keeps each request well under edge body and subrequest limits. */
const GATEWAY_SEGMENT_CHUNKS = 32;
const GATEWAY_RETRIES = 3;

function intFlag(v: unknown, name: string, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new BunsanError('bad_request', `--${name} must be an integer in ${min}-${max}`);
  return n;
}

export function uploadRequest(c: CommandContext, path: string, size: number): OpenUploadRequest {
  const chunk = intFlag(c.flags['chunk-size'], 'chunk-size', MIN_CHUNK, MAX_CHUNK) ?? DEFAULT_CHUNK;
  const name = (c.flags.name as string | undefined) ?? basename(path);
  return {
    name,
    // A label for listings; what a browser is served is decided when serving (serve-policy.ts).
    type: declaredType((c.flags.type as string | undefined) ?? '', name),
    size,
    replicas: intFlag(c.flags.replicas, 'replicas', 1, 8) ?? 2,
    chunking: c.flags.irregular
      ? { mode: 'irregular', min: Math.max(MIN_CHUNK, Math.floor(chunk / 2)), max: Math.min(MAX_CHUNK, Math.floor(chunk * 1.5)) }
      : { mode: 'regular', size: chunk },
    ...securityOptions(c),
  };
}

/** An ISO date or milliseconds since the epoch. */
function timeFlag(v: unknown, name: string): number | undefined {
  if (v === undefined) return undefined;
  const s = String(v);
  const ms = /^\d+$/.test(s) ? Number(s) : Date.parse(s);
  if (!Number.isSafeInteger(ms) || ms < 0) throw new BunsanError('bad_request', `--${name} must be an ISO date or ms since the epoch`);
  return ms;
}

function securityOptions(c: CommandContext): Partial<OpenUploadRequest> {
  const placement = c.flags.placement as string | undefined;
  if (placement !== undefined && placement !== 'rendezvous' && placement !== 'random') {
    throw new BunsanError('bad_request', '--placement must be rendezvous or random');
  }
  const out: Partial<OpenUploadRequest> = {};
  if (c.flags.private) out.visibility = 'private';
  const publishAt = timeFlag(c.flags['publish-at'], 'publish-at');
  const expireAt = timeFlag(c.flags['expire-at'], 'expire-at');
  const minGrade = intFlag(c.flags['min-grade'], 'min-grade', 0, 9);
  if (publishAt !== undefined) out.publishAt = publishAt;
  if (expireAt !== undefined) out.expireAt = expireAt;
  if (minGrade !== undefined) out.minGrade = minGrade;
  if (placement) out.placement = placement;
  const wander = durationFlag(c.flags.wander, 'wander', WANDER_MIN_SECONDS, WANDER_MAX_SECONDS);
  if (wander !== undefined) {
    if (placement === 'random') throw new BunsanError('bad_request', '--wander chooses its own nodes: it cannot go with --placement random');
    out.wanderSeconds = wander;
  }
  if (c.flags.region !== undefined) {
    const region = ManagerRegion.safeParse(c.flags.region);
    if (!region.success) throw new BunsanError('bad_request', `--region must be one of ${ManagerRegion.options.join(', ')}`);
    out.region = region.data;
  }
  return out;
}

async function openOrResume(api: ApiClient, home: string, key: string, req: OpenUploadRequest): Promise<UploadSession> {
  const known = rememberedUpload(home, key);
  if (known) {
    try {
      const s = await api.session(known);
      if (s.state !== 'deleting') return s;
    } catch (err) {
      if (!(err instanceof BunsanError) || err.status !== 404) throw err;
    }
  }
  const s = await api.openUpload(req);
  rememberUpload(home, key, s.id);
  return s;
}

export async function uploadCommand(c: CommandContext): Promise<void> {
  if (c.args.length !== 1) throw new BunsanError('bad_request', 'expected exactly one FILE');
  const path = resolve(c.args[0]);
  const st = await stat(path).catch(() => { throw new BunsanError('bad_request', `cannot read ${c.args[0]}`); });
  if (!st.isFile()) throw new BunsanError('bad_request', `${c.args[0]} is not a regular file`);
  const req = uploadRequest(c, path, st.size);
  const mode = c.flags.gateway ? 'gateway' : 'direct';
  const key = uploadKey([c.api.portal, path, st.size, st.mtimeMs, mode, req]);
  let session = await openOrResume(c.api, c.home, key, req);
  const bar = progressBar(`upload ${req.name}`, !c.json && !!process.stderr.isTTY);
  const started = Date.now();
  let counts: { sentChunks: number; skippedChunks: number; peakEdgeBufferedBytes?: number } = { sentChunks: 0, skippedChunks: session.chunkCount };
  if (session.state === 'uploading') {
    // Gateway mode: the edge builds the media index from the bytes it splits.
    let media: MediaIndex | null = null;
    if (mode === 'direct') {
      const fh = await open(path, 'r');
      try {
        ({ media, ...counts } = await uploadDirect({
          api: c.api, session, crypto: cryptoLike, fetch: (u, i) => fetch(u, i),
          read: async (offset, length) => {
            const buf = new Uint8Array(length);
            const { bytesRead } = await fh.read(buf, 0, length, offset);
            return bytesRead === length ? buf : buf.subarray(0, bytesRead);
          },
          onProgress: (p) => bar.update(p.bytesDone, p.bytesTotal),
        }));
      } finally {
        await fh.close();
      }
    } else {
      counts = await uploadThroughGateway(c.api, session, path, (done) => bar.update(done, session.size));
    }
    await c.api.commit(session.id, media);
    session = await c.api.session(session.id);
  }
  bar.finish();
  forgetUpload(c.home, key);
  const seconds = (Date.now() - started) / 1000;
  c.out({ id: session.id, name: session.name, size: session.size, chunks: session.chunkCount, mode, seconds, ...counts }, session.id);
}

async function uploadThroughGateway(
  api: ApiClient, session: UploadSession, path: string, onBytes: (n: number) => void,
): Promise<{ sentChunks: number; skippedChunks: number; peakEdgeBufferedBytes: number }> {
  // Only the spans at segment edges are asked of the plan: it is never built whole.
  const plan = chunkPlan(cryptoLike, session.size, session.chunking);
  const count = session.chunkCount;
  const startOf = async (i: number) => (i < count ? (await plan.span(i))!.offset : session.size);
  const stored = new Set(session.stored);
  let next = 0;
  let sentChunks = 0;
  let peakEdgeBufferedBytes = 0;
  while (next < count && stored.has(next)) next++;
  let failures = 0;
  while (next < count) {
    const last = Math.min(count, next + GATEWAY_SEGMENT_CHUNKS) - 1;
    const start = await startOf(next);
    const end = await startOf(last + 1); // exclusive
    const body = Readable.toWeb(createReadStream(path, { start, end: end - 1, highWaterMark: 256 * 1024 })) as ReadableStream<Uint8Array>;
    try {
      const r = await api.gateway(session.id, next, body, { duplex: 'half' } as RequestInit);
      if (r.next <= next) throw new BunsanError('node_unreachable', `the portal stored nothing from chunk ${next}`);
      next = r.next;
      sentChunks += r.storedChunks;
      peakEdgeBufferedBytes = Math.max(peakEdgeBufferedBytes, r.peakBufferedBytes);
      failures = 0;
    } catch (err) {
      // A dropped connection or a node hiccup: ask the manager what it has and go on from there.
      if (!(err instanceof BunsanError) || err.status < 500 || ++failures > GATEWAY_RETRIES) throw err;
      const done = new Set((await api.session(session.id)).stored);
      while (next < count && done.has(next)) next++;
    }
    onBytes(await startOf(next));
  }
  return { sentChunks, skippedChunks: count - sentChunks, peakEdgeBufferedBytes };
}
