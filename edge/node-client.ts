// How the control plane talks to distribution nodes: batch checks (is this chunk really there,
// under this content and stamp?), batch deletes, inventory pages, health, copy orders and
// single-chunk reads and writes. Every call has a deadline: a node that stops answering costs
// the caller seconds, never its progress, and the caller's own retry (an alarm, the next
// sweep) tries again.
import { NodeCheckResponse, NodeDeleteResponse } from '../protocol/api.ts';
import { BunsanError, fromEnvelope } from '../protocol/errors.ts';
import { sha256Hex } from '../protocol/hash.ts';
import { chunkUrl, NODE_PATHS, STAMP_HEADER } from '../protocol/node-protocol.ts';
import { expiresIn, issueToken, TOKEN_TTL, type CopyToken } from '../protocol/tokens.ts';
import { putChunk } from '../protocol/upload/put-chunk.ts';
import { z } from 'zod';
import { readBodyLimited } from './http.ts';
import { signingKey } from './keys.ts';

export interface NodeClientDeps {
  fetch: typeof fetch;
  key: CryptoKey;
  now: () => number;
}

export interface NodeAddress { id: string; url: string }

/** The control plane's own client: the global fetch, the signing key, the clock. */
export async function clientFor(env: { SIGNING_KEY: string }): Promise<NodeClientDeps> {
  return { fetch: (u, i) => fetch(u, i), key: await signingKey(env.SIGNING_KEY), now: () => Date.now() };
}

/** Deadlines (ms): a small management call, one chunk read or written, a copy order (the node fetches a chunk itself). */
export const DEADLINE = { call: 5_000, chunk: 30_000, copy: 60_000 } as const;
const BATCH = 1000;

/**
 * fetch with a deadline that covers the body as well; a miss is `node_unreachable`. A connection
 * that fails before any answer is tried once more within the same deadline: a kept-alive
 * connection the node closed just as it was reused fails that way, and every call of the node
 * protocol is idempotent (reads, content-addressed writes, deletes, copy orders; a lost take of
 * served bytes costs one interval of demand), and its bodies are strings, sent again as they are.
 */
export async function nodeFetch(deps: Pick<NodeClientDeps, 'fetch'>, node: NodeAddress, url: string, init: RequestInit, ms: number): Promise<Response> {
  const signal = AbortSignal.timeout(ms);
  let last: unknown;
  for (let attempt = 0; attempt < 2 && !signal.aborted; attempt++) {
    try {
      return await deps.fetch(url, { ...init, signal });
    } catch (err) {
      last = err;
    }
  }
  const why = signal.aborted ? `did not answer within ${ms / 1000} s` : `is unreachable: ${(last as Error).message}`;
  throw new BunsanError('node_unreachable', `node ${node.id} ${why}`);
}

/** Reads a JSON answer, under the same deadline (a node may stall after its headers). */
async function answer<S extends z.ZodType>(node: NodeAddress, res: Response, schema: S): Promise<z.infer<S>> {
  let body: unknown;
  try {
    body = await res.json();
  } catch {
    body = null;
    if (res.ok) throw new BunsanError('node_unreachable', `node ${node.id} sent an unreadable answer`);
  }
  if (!res.ok) throw fromEnvelope(res.status, body);
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw new BunsanError('node_unreachable', `node ${node.id} sent a malformed answer`);
  return parsed.data;
}

const mgmtToken = (deps: NodeClientDeps, node: NodeAddress, content?: string) =>
  issueToken(crypto, deps.key, { t: 'mgmt', n: node.id, ...(content ? { c: content } : {}), exp: expiresIn(deps.now(), TOKEN_TTL.mgmt) });

async function post<S extends z.ZodType>(deps: NodeClientDeps, node: NodeAddress, path: string, content: string | undefined, hashes: string[], schema: S): Promise<z.infer<S>> {
  const res = await nodeFetch(deps, node, node.url.replace(/\/+$/, '') + path, {
    method: 'POST',
    headers: { authorization: `Bearer ${await mgmtToken(deps, node, content)}`, 'content-type': 'application/json' },
    body: JSON.stringify({ hashes }),
  }, DEADLINE.call);
  return answer(node, res, schema);
}

/** Which of `hashes` the node holds (under `content` when given), with the content and stamp each was stored under. */
export async function checkOnNode(deps: NodeClientDeps, node: NodeAddress, content: string | undefined, hashes: string[]) {
  const out: z.infer<typeof NodeCheckResponse>['chunks'] = [];
  for (let i = 0; i < hashes.length; i += BATCH) {
    out.push(...(await post(deps, node, NODE_PATHS.check, content, hashes.slice(i, i + BATCH), NodeCheckResponse)).chunks);
  }
  return out;
}

export async function deleteOnNode(deps: NodeClientDeps, node: NodeAddress, content: string, hashes: string[]) {
  const deleted: string[] = [];
  for (let i = 0; i < hashes.length; i += BATCH) {
    deleted.push(...(await post(deps, node, NODE_PATHS.deleteBatch, content, hashes.slice(i, i + BATCH), NodeDeleteResponse)).deleted);
  }
  return deleted;
}

export const InventoryPage = z.object({
  chunks: z.array(z.object({ hash: z.string(), size: z.number().int(), content: z.string().nullable() })),
  cursor: z.string().nullable(),
});

/** One page of what the node holds (every content), from `cursor`. */
export async function inventoryPage(deps: NodeClientDeps, node: NodeAddress, cursor: string | null, limit = BATCH) {
  const q = new URLSearchParams({ limit: String(limit), ...(cursor ? { cursor } : {}) });
  const res = await nodeFetch(deps, node, `${node.url.replace(/\/+$/, '')}${NODE_PATHS.inventory}?${q}`, {
    headers: { authorization: `Bearer ${await mgmtToken(deps, node)}` },
  }, DEADLINE.call);
  return answer(node, res, InventoryPage);
}

export const ServedAnswer = z.object({
  node: z.string(), since: z.number(), total: z.number().nonnegative(), from: z.number(), at: z.number(),
  contents: z.record(z.string(), z.number().nonnegative()), other: z.number().nonnegative(),
});

/** What the node served to viewers since the last take (edge/node/tally.ts); the take starts a new interval. */
export async function takeServedOf(deps: NodeClientDeps, node: NodeAddress) {
  const res = await nodeFetch(deps, node, `${node.url.replace(/\/+$/, '')}${NODE_PATHS.served}`, {
    method: 'POST', headers: { authorization: `Bearer ${await mgmtToken(deps, node)}` },
  }, DEADLINE.call);
  return answer(node, res, ServedAnswer);
}

export const HealthAnswer = z.object({ ok: z.literal(true), node: z.string(), region: z.string().optional() });

/** The node's health answer: it must speak the node protocol and call itself by the id asked for (when given). */
export async function healthOf(deps: Pick<NodeClientDeps, 'fetch'>, node: NodeAddress, ms = DEADLINE.call) {
  const res = await nodeFetch(deps, node, `${node.url.replace(/\/+$/, '')}${NODE_PATHS.health}`, {}, ms);
  if (!res.ok) {
    await res.body?.cancel();
    throw new BunsanError('node_unreachable', `node ${node.id} answered its health check with HTTP ${res.status}`);
  }
  const body = HealthAnswer.safeParse(await res.json().catch(() => null));
  if (!body.success) throw new BunsanError('bad_request', `${node.url} does not answer the node protocol (GET ${NODE_PATHS.health})`);
  return body.data;
}

export type CopyResult = { ok: true } | { ok: false; from: 'source' | 'target'; why: 'unreachable' | 'bad' | 'unsupported' };

/**
 * Sends a copy order: the target fetches the chunk from the source itself and keeps it only if
 * it hashes to its name. The answer says whose fault a failure was, so the caller can try
 * another source, or relay the bytes itself when the nodes cannot reach each other.
 */
export async function copyOnNode(deps: NodeClientDeps, target: NodeAddress, order: Omit<CopyToken, 't' | 'n' | 'o' | 'exp'>): Promise<CopyResult> {
  const nonce = [...crypto.getRandomValues(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, '0')).join('');
  const token = await issueToken(crypto, deps.key, { t: 'copy', n: target.id, o: nonce, exp: expiresIn(deps.now(), TOKEN_TTL.copy), ...order });
  let res: Response;
  try {
    res = await nodeFetch(deps, target, target.url.replace(/\/+$/, '') + NODE_PATHS.copy(order.h), {
      method: 'POST', headers: { authorization: `Bearer ${token}` },
    }, DEADLINE.copy);
  } catch {
    return { ok: false, from: 'target', why: 'unreachable' };
  }
  const body = (await res.json().catch(() => null)) as { error?: { code?: string; details?: { source?: string } } } | null;
  if (res.status === 200 || res.status === 201) return { ok: true };
  // A node that does not know the route (an older node) gets the bytes relayed instead.
  if (res.status === 404 && body?.error?.code === 'not_found') return { ok: false, from: 'target', why: 'unsupported' };
  if (res.status === 405) return { ok: false, from: 'target', why: 'unsupported' };
  const source = body?.error?.details?.source;
  if (source === 'unreachable' || source === 'bad') return { ok: false, from: 'source', why: source };
  return { ok: false, from: 'target', why: res.status >= 500 ? 'unreachable' : 'bad' };
}

export type ChunkRead = { ok: true; sealed: Uint8Array } | { ok: false; why: 'bad' | 'unreachable' };

/** One copy read and verified the way a client would: stamp, length, hash. */
export async function readChunk(
  deps: NodeClientDeps, node: NodeAddress, c: { content: string; stamp: string; hash: string; size: number },
): Promise<ChunkRead> {
  const token = await issueToken(crypto, deps.key, { t: 'get', c: c.content, h: c.hash, exp: expiresIn(deps.now(), TOKEN_TTL.mgmt) });
  let res: Response;
  try {
    res = await nodeFetch(deps, node, chunkUrl(node.url, c.hash), { headers: { authorization: `Bearer ${token}` } }, DEADLINE.chunk);
  } catch {
    return { ok: false, why: 'unreachable' };
  }
  if (res.status >= 500) {
    await res.body?.cancel().catch(() => {});
    return { ok: false, why: 'unreachable' };
  }
  // A 404 or a refusal is as bad as wrong bytes: the manager's record promises the chunk is there.
  if (res.status !== 200 || res.headers.get(STAMP_HEADER) !== c.stamp) {
    await res.body?.cancel().catch(() => {});
    return { ok: false, why: 'bad' };
  }
  try {
    const sealed = await readBodyLimited(res, c.size);
    const ok = sealed.length === c.size && (await sha256Hex(crypto, sealed)) === c.hash;
    return ok ? { ok: true, sealed } : { ok: false, why: 'bad' };
  } catch (err) {
    return { ok: false, why: err instanceof BunsanError && err.code === 'payload_too_large' ? 'bad' : 'unreachable' };
  }
}

/** Writes one chunk to a node with an upload token for it, under the chunk deadline. */
export async function writeChunk(
  deps: NodeClientDeps, node: NodeAddress, c: { content: string; version: number; stamp: string; hash: string }, sealed: Uint8Array,
): Promise<void> {
  const token = await issueToken(crypto, deps.key, {
    t: 'put', c: c.content, v: c.version, n: node.id, h: c.hash, s: c.stamp, exp: expiresIn(deps.now(), TOKEN_TTL.mgmt),
  });
  await putChunk((u, i) => deps.fetch(u, i), { node: node.id, url: node.url, token }, c.hash, sealed, 1);
}
