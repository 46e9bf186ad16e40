// Capability tokens the management tier issues and nodes check with the public key alone.
//  put:  store exactly one chunk (hash) of one content version on one node, under one stamp
//  get:  read chunks that belong to one content
//  mgmt: check, list and delete chunks on one node (optionally scoped to one content)
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
export const GetToken = z.object({ t: z.literal('get'), c: ContentId, exp });
export const MgmtToken = z.object({ t: z.literal('mgmt'), n: NodeId, c: ContentId.optional(), exp });
export const AnyToken = z.discriminatedUnion('t', [PutToken, GetToken, MgmtToken]);

export type PutToken = z.infer<typeof PutToken>;
export type GetToken = z.infer<typeof GetToken>;
export type MgmtToken = z.infer<typeof MgmtToken>;
export type AnyToken = z.infer<typeof AnyToken>;

export const TOKEN_TTL = { put: 6 * 3600, get: 6 * 3600, mgmt: 600 } as const;

export function issueToken(crypto: CryptoLike, key: CryptoKey, payload: AnyToken): Promise<string> {
  return signEnvelope(crypto, key, payload);
}

export async function verifyToken<S extends typeof PutToken | typeof GetToken | typeof MgmtToken>(
  crypto: CryptoLike, key: CryptoKey, token: string | null | undefined, schema: S, nowMs: number,
): Promise<z.infer<S>> {
  if (!token) throw new BunsanError('unauthorized', 'a bearer token is required');
  const payload = await openEnvelope(crypto, key, token, AnyToken);
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
