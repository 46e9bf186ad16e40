// Token checks. Nodes hold only the signing public key: they can verify what the management
// tier issued but never mint a token themselves.
import type { Context } from 'hono';
import type { z } from 'zod';
import { BunsanError } from '../../protocol/errors.ts';
import { importPublicKey } from '../../protocol/signing.ts';
import { bearer, GetToken, MgmtToken, PutToken, verifyToken } from '../../protocol/tokens.ts';
import type { NodeEnv } from '../env.ts';

export type NodeContext = Context<{ Bindings: NodeEnv }>;

// Importing the key costs a little on every call, so each isolate keeps the promise. Keyed by
// the key string so a rotated key (a new deployment's env) is imported afresh.
const keys = new Map<string, Promise<CryptoKey>>();

export function publicKey(raw: string): Promise<CryptoKey> {
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

async function verify<S extends typeof PutToken | typeof GetToken | typeof MgmtToken>(
  c: NodeContext, token: string | null, schema: S,
): Promise<z.infer<S>> {
  return verifyToken(crypto, await publicKey(c.env.SIGNING_PUBLIC_KEY), token, schema, Date.now());
}

/** Download token from the header or, for <video src> and plain links that cannot set headers, `?t=`. */
export function requireGet(c: NodeContext): Promise<GetToken> {
  return verify(c, headerToken(c) ?? c.req.query('t') ?? null, GetToken);
}

export async function requirePut(c: NodeContext, hash: string): Promise<PutToken> {
  const token = await verify(c, headerToken(c), PutToken);
  if (token.h !== hash || token.n !== c.env.NODE_ID) {
    throw new BunsanError('wrong_audience', 'the upload token is for another chunk or node');
  }
  return token;
}

export async function requireMgmt(c: NodeContext): Promise<MgmtToken> {
  const token = await verify(c, headerToken(c), MgmtToken);
  if (token.n !== c.env.NODE_ID) throw new BunsanError('wrong_audience', 'the management token is for another node');
  return token;
}
