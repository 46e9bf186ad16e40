// Grants: the owner of a private content hands a viewer a signed permission to fetch its
// manifest. Same Ed25519 envelope as tokens and stamps, with its own type tag, so a grant is
// never accepted by a node as a download token nor a download token as a grant. A grant expires
// on its own; revocation is the manager's record, checked at every manifest request.
import { z } from 'zod';
import type { CryptoLike } from './crypto-like.ts';
import { BunsanError } from './errors.ts';
import { ContentId } from './ids.ts';
import { openEnvelope, signEnvelope } from './signing.ts';

export const Grant = z.object({
  t: z.literal('grant'), c: ContentId, id: z.string().regex(/^[0-9a-f]{32}$/), exp: z.number().int().positive(),
}).strict();
export type Grant = z.infer<typeof Grant>;

export const issueGrant = (crypto: CryptoLike, key: CryptoKey, grant: Grant): Promise<string> => signEnvelope(crypto, key, grant);

/** Checks signature, shape, audience (this content) and expiry; revocation is the caller's. */
export async function verifyGrant(crypto: CryptoLike, key: CryptoKey, envelope: string, contentId: string, nowMs: number): Promise<Grant> {
  const g = await openEnvelope(crypto, key, envelope, Grant);
  if (g.c !== contentId) throw new BunsanError('wrong_audience', 'the grant is for another content');
  if (g.exp * 1000 <= nowMs) throw new BunsanError('token_expired', 'the grant has expired');
  return g;
}

/** A grant looks like a signed envelope (two dot-separated parts); API tokens have no dot. */
export const looksLikeEnvelope = (token: string): boolean => token.includes('.');
