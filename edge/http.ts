// HTTP plumbing shared by the portal and the node Workers: the JSON error envelope, bounded
// body reading, and schema-checked JSON bodies. Bad input becomes a 4xx envelope, never a 500.
import type { Context } from 'hono';
import type { z } from 'zod';
import { BunsanError, type ErrorEnvelope } from '../protocol/errors.ts';

export const MAX_JSON_BYTES = 256 * 1024;
const MAX_JSON_DEPTH = 32;

export function errorResponse(err: unknown): Response {
  const e = err instanceof BunsanError ? err : null;
  if (!e) console.error('unexpected error', err);
  const body = e ? e.toEnvelope() : { error: { code: 'internal', message: 'internal error' } };
  return Response.json(body, { status: e ? e.status : 500, headers: { 'cache-control': 'no-store' } });
}

/**
 * Reads a body up to `limit` bytes; the declared length is checked first so nothing is read in
 * vain. A body the runtime cannot deliver (shorter than its Content-Length, broken chunked
 * framing, the client gone) is the client's fault: 400, not 500.
 */
export async function readBodyLimited(req: Pick<Request, 'headers' | 'body'>, limit: number): Promise<Uint8Array> {
  const declared = req.headers.get('content-length');
  if (declared !== null && declared.trim() !== '' && !/^\s*\d+\s*$/.test(declared)) {
    throw new BunsanError('bad_request', 'Content-Length must be a number of bytes');
  }
  if (declared !== null && Number(declared) > limit) {
    throw new BunsanError('payload_too_large', `body exceeds ${limit} bytes`);
  }
  if (!req.body) return new Uint8Array(0);
  const reader = req.body.getReader();
  const parts: Uint8Array[] = [];
  let n = 0;
  for (;;) {
    let chunk: ReadableStreamReadResult<Uint8Array>;
    try {
      chunk = await reader.read();
    } catch {
      throw new BunsanError('bad_request', 'the request body is malformed or ended before its declared length');
    }
    const { done, value } = chunk;
    if (done) break;
    n += value.byteLength;
    if (n > limit) {
      await reader.cancel();
      throw new BunsanError('payload_too_large', `body exceeds ${limit} bytes`);
    }
    parts.push(value);
  }
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.byteLength; }
  return out;
}

function depthOf(v: unknown, d = 0): number {
  if (d > MAX_JSON_DEPTH || v === null || typeof v !== 'object') return d;
  let max = d;
  for (const x of Object.values(v as object)) max = Math.max(max, depthOf(x, d + 1));
  return max;
}

/** Parses a JSON body against a schema: 415 for another content type, 413 over the limit, 400 otherwise. */
export async function jsonBody<S extends z.ZodType>(req: Request, schema: S, limit = MAX_JSON_BYTES): Promise<z.infer<S>> {
  const type = req.headers.get('content-type') ?? '';
  if (!/^application\/json\b/i.test(type)) throw new BunsanError('unsupported_media_type', 'body must be application/json');
  const raw = await readBodyLimited(req, limit);
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(raw));
  } catch {
    throw new BunsanError('bad_json', 'body is not valid JSON');
  }
  if (depthOf(value) > MAX_JSON_DEPTH) throw new BunsanError('invalid_body', 'JSON is nested too deeply');
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issues = parsed.error.issues.slice(0, 10).map((i) => ({ path: i.path.join('.'), message: i.message }));
    throw new BunsanError('invalid_body', issues.map((i) => `${i.path || 'body'}: ${i.message}`).join('; '), issues);
  }
  return parsed.data;
}

/** Hono's onError and notFound, installed the same way on every edge app. */
export const onError = (err: Error, _c: Context) => errorResponse(err);
export const notFound = (c: Context) =>
  errorResponse(new BunsanError('not_found', `no route for ${c.req.method} ${new URL(c.req.url).pathname}`));

// Durable Object RPC keeps only an error's message, so managers return results as values:
// { ok } or { error: envelope }, and callers turn the envelope back into a BunsanError.
export type RpcResult<T> = { ok: T } | ErrorEnvelope;

export async function toRpc<T>(fn: () => Promise<T>): Promise<RpcResult<T>> {
  try {
    return { ok: await fn() };
  } catch (err) {
    if (err instanceof BunsanError) return err.toEnvelope();
    throw err;
  }
}

export function fromRpc<T>(r: RpcResult<T>): T {
  if ('error' in r) throw new BunsanError(r.error.code, r.error.message, r.error.details);
  return r.ok;
}
