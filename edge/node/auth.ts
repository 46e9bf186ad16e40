// Token checks. Nodes hold only the signing public key: they can verify what the management
// tier issued but never mint a token themselves.
import type { z } from 'zod';
import type { CryptoLike } from '../../protocol/crypto-like.ts';
import { BunsanError } from '../../protocol/errors.ts';
import { importPublicKey, openEnvelope } from '../../protocol/signing.ts';
import { AnyToken, bearer, checkToken, CopyToken, GetToken, MgmtToken, PutToken } from '../../protocol/tokens.ts';
import type { NodeContext } from './deps.ts';

export type { NodeContext } from './deps.ts';

// Importing the key costs a little on every call, so each isolate keeps the promise. Keyed by
// the key string so a rotated key (a new deployment's env) is imported afresh.
const keys = new Map<string, Promise<CryptoKey>>();

export function publicKey(crypto: CryptoLike, raw: string): Promise<CryptoKey> {
  let p = keys.get(raw);
  if (!p) {
    p = Promise.resolve()
      .then(() => importPublicKey(crypto, raw))
      .catch((err) => {
        keys.delete(raw); // a misconfigured key must not stay cached after it is fixed
        throw new Error(`SIGNING_PUBLIC_KEY is not a usable Ed25519 key: ${(err as Error).message}`);
      });
    keys.set(raw, p);
  }
  return p;
}

/** The bearer token of the Authorization header; null when there is no header at all. */
export function headerToken(c: NodeContext): string | null {
  const h = c.req.header('authorization');
  if (h === undefined) return null;
  const t = bearer(h);
  if (!t) throw new BunsanError('unauthorized', 'Authorization must be "Bearer <token>"');
  return t;
}

// A download token is sent with every chunk of a content, so a token whose signature verified
// is remembered (by its exact text and the key it verified under) and not verified again: its
// type and expiry are still checked on every use. Bounded; the oldest entries go first.
const VERIFIED_MAX = 1024;
const verified = new Map<string, AnyToken>();

async function verify<S extends typeof PutToken | typeof GetToken | typeof MgmtToken | typeof CopyToken>(
  c: NodeContext, token: string | null, schema: S,
): Promise<z.infer<S>> {
  const { crypto, signingPublicKey, now } = c.var.node;
  const known = token ? verified.get(`${signingPublicKey} ${token}`) : undefined;
  if (known) return checkToken(known, schema, now());
  if (!token) throw new BunsanError('unauthorized', 'a bearer token is required');
  const payload = await openEnvelope(crypto, await publicKey(crypto, signingPublicKey), token, AnyToken);
  verified.set(`${signingPublicKey} ${token}`, payload);
  if (verified.size > VERIFIED_MAX) verified.delete(verified.keys().next().value!);
  return checkToken(payload, schema, now());
}

/** Download token from the header or, for <video src> and plain links that cannot set headers, `?t=`. */
export function requireGet(c: NodeContext): Promise<GetToken> {
  return verify(c, headerToken(c) ?? c.req.query('t') ?? null, GetToken);
}

export async function requirePut(c: NodeContext, hash: string): Promise<PutToken> {
  const token = await verify(c, headerToken(c), PutToken);
  if (token.h !== hash || token.n !== c.var.node.nodeId) {
    throw new BunsanError('wrong_audience', 'the upload token is for another chunk or node');
  }
  return token;
}

export async function requireMgmt(c: NodeContext): Promise<MgmtToken> {
  const token = await verify(c, headerToken(c), MgmtToken);
  if (token.n !== c.var.node.nodeId) throw new BunsanError('wrong_audience', 'the management token is for another node');
  return token;
}

/** A copy order for this node and exactly this chunk. */
export async function requireCopy(c: NodeContext, hash: string): Promise<CopyToken> {
  const token = await verify(c, headerToken(c), CopyToken);
  if (token.n !== c.var.node.nodeId || token.h !== hash) {
    throw new BunsanError('wrong_audience', 'the copy order is for another chunk or node');
  }
  return token;
}
