// Capability tokens the management tier issues and nodes check with the public key alone.
//  put:  store exactly one chunk (hash) of one content version on one node, under one stamp
//  get:  read chunks that belong to one content
//  mgmt: check, list and delete chunks on one node (optionally scoped to one content)
//  copy: a single-use order to one node: fetch one chunk from another node (with the get token
//        the order carries) and keep it if it hashes to its name; moves never pass the manager
import { z } from 'zod';
import type { CryptoLike } from './crypto-like.ts';
import { BunsanError } from './errors.ts';
import { ChunkHash, ContentId, NodeId } from './ids.ts';
import { openEnvelope, signEnvelope } from './signing.ts';

const exp = z.number().int().positive();

export const PutToken = z.object({
  t: z.literal('put'), c: ContentId, v: z.number().int().positive(), n: NodeId, h: ChunkHash,
  s: ChunkHash, exp,
});
/** `h`, when present, narrows the token to one chunk (the get token inside a copy order). */
export const GetToken = z.object({ t: z.literal('get'), c: ContentId, h: ChunkHash.optional(), exp });
export const MgmtToken = z.object({ t: z.literal('mgmt'), n: NodeId, c: ContentId.optional(), exp });
export const CopyToken = z.object({
  t: z.literal('copy'),
  /** the node that must carry the order out, and nobody else */
  n: NodeId,
  c: ContentId, v: z.number().int().positive(), h: ChunkHash,
  /** upload-stamp digest the copy must carry (and the source must return) */
  s: ChunkHash,
  /** the sealed length */
  z: z.number().int().positive(),
  /** the source node's base URL, and a get token for exactly this chunk there */
  src: z.string().url().max(512).refine((u) => /^https?:\/\//i.test(u), 'source must be http or https'),
  g: z.string().max(4096),
  /** single use: the node keeps the nonces it carried out until they expire */
  o: z.string().regex(/^[0-9a-f]{32}$/),
  exp,
});
export const AnyToken = z.discriminatedUnion('t', [PutToken, GetToken, MgmtToken, CopyToken]);

export type PutToken = z.infer<typeof PutToken>;
export type GetToken = z.infer<typeof GetToken>;
export type MgmtToken = z.infer<typeof MgmtToken>;
export type CopyToken = z.infer<typeof CopyToken>;
export type AnyToken = z.infer<typeof AnyToken>;

export const TOKEN_TTL = { put: 6 * 3600, get: 6 * 3600, mgmt: 600, copy: 600 } as const;

export function issueToken(crypto: CryptoLike, key: CryptoKey, payload: AnyToken): Promise<string> {
  return signEnvelope(crypto, key, payload);
}

export async function verifyToken<S extends typeof PutToken | typeof GetToken | typeof MgmtToken | typeof CopyToken>(
  crypto: CryptoLike, key: CryptoKey, token: string | null | undefined, schema: S, nowMs: number,
): Promise<z.infer<S>> {
  if (!token) throw new BunsanError('unauthorized', 'a bearer token is required');
  const payload = await openEnvelope(crypto, key, token, AnyToken);
  return checkToken(payload, schema, nowMs);
}

/** The checks after the signature: the token's type, then its expiry. */
export function checkToken<S extends typeof PutToken | typeof GetToken | typeof MgmtToken | typeof CopyToken>(
  payload: AnyToken, schema: S, nowMs: number,
): z.infer<S> {
  const want = (schema.shape.t as z.ZodLiteral<string>).value;
  if (payload.t !== want) throw new BunsanError('forbidden', `a ${want} token is required, got ${payload.t}`);
  if (payload.exp * 1000 <= nowMs) throw new BunsanError('token_expired', 'token has expired');
  return payload as z.infer<S>;
}

export function bearer(header: string | null | undefined): string | null {
  const m = /^Bearer ([A-Za-z0-9_.-]+)$/.exec(header ?? '');
  return m ? m[1] : null;
}

export const expiresIn = (nowMs: number, seconds: number): number => Math.floor(nowMs / 1000) + seconds;
