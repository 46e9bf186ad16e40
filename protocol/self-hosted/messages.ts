// What a self-hosted node and the portal say to each other. The operator invites a node (a
// one-time join token); the node joins with that token and a proof that it holds the key pair it
// made for itself; from then on it signs what it sends (reports, a drain request) with that key,
// and the portal accepts only what the node's registered key signed, each message newer than
// the last (`at`, ms) and not expired (`exp`, s) — so a captured message cannot be replayed.
import { z } from 'zod';
import { Grade } from '../api.ts';
import { fromBase64Url, fromUtf8 } from '../bytes.ts';
import { ChunkHash, ContentId, NodeId } from '../ids.ts';
import { NodeUrl } from '../manifest.ts';

const Bytes = z.number().int().nonnegative().max(2 ** 53 - 1);
const Capacity = z.number().int().positive().max(2 ** 53 - 1);
export const MAX_INVITE_TTL = 30 * 24 * 3600;
/** How long a signed message stays good: long enough for a slow link, short enough that a stolen one soon is useless. */
export const SIGNED_MESSAGE_TTL = 300;
/** A signed message dated further ahead than this is refused (a clock that far off is wrong). */
export const MAX_CLOCK_SKEW_MS = 5 * 60_000;
const Version = z.string().max(64).regex(/^[\x20-\x7e]*$/);
const PublicKey = z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'an Ed25519 public key, raw, base64url');
const At = z.number().int().positive().max(8.64e15);
const Exp = z.number().int().positive();

export const InviteRequest = z.object({
  region: z.string().max(64).default(''),
  grade: Grade.default(1),
  /** the most the node may hold, whatever it offers */
  capacity: Capacity.optional(),
  ttlSeconds: z.number().int().min(60).max(MAX_INVITE_TTL).default(24 * 3600),
}).strict();
export type InviteRequest = z.input<typeof InviteRequest>;
export const InviteResponse = z.object({
  token: z.string(), expiresAt: z.number().int(), region: z.string(), grade: Grade, capacity: Capacity.nullable(),
});
export type InviteResponse = z.infer<typeof InviteResponse>;

/** Signed with the new node's own key: it holds the key it registers. */
export const JoinProof = z.object({
  t: z.literal('join'), k: PublicKey, url: NodeUrl, capacity: Capacity.nullable(), version: Version, at: At, exp: Exp,
}).strict();
export type JoinProof = z.infer<typeof JoinProof>;
export const JoinRequest = z.object({ token: z.string().min(1).max(256), proof: z.string().max(8192) }).strict();
export const JoinResponse = z.object({
  id: NodeId, signingPublicKey: z.string(), region: z.string(), grade: Grade, capacity: Capacity.nullable(), state: z.string(),
});
export type JoinResponse = z.infer<typeof JoinResponse>;

export const MAX_REPORTED_CORRUPT = 100;
export const NodeReport = z.object({
  t: z.literal('report'), n: NodeId, at: At, exp: Exp,
  /** what the node may hold (null: what its disk has), holds, has free, and has served since it started */
  capacity: Capacity.nullable(), held: Bytes, chunks: Bytes, free: Bytes, served: Bytes,
  version: Version,
  /** chunks it found damaged since its last report (set aside, no longer served) */
  corrupt: z.array(z.object({ hash: ChunkHash, content: ContentId.nullable() }).strict()).max(MAX_REPORTED_CORRUPT),
}).strict();
export type NodeReport = z.infer<typeof NodeReport>;
export const NodeReportResponse = z.object({ accepted: z.literal(true), state: z.string() });

export const NodeDrainRequest = z.object({ t: z.literal('drain'), n: NodeId, at: At, exp: Exp }).strict();
export type NodeDrainRequest = z.infer<typeof NodeDrainRequest>;
export const NodeDrainResponse = z.object({ id: NodeId, state: z.string() });

export const SignedByNode = z.discriminatedUnion('t', [NodeReport, NodeDrainRequest]);

/**
 * The payload of a signed envelope, read without checking the signature: only to learn which
 * key to check it with. Nothing in it is trusted until openEnvelope has verified it.
 */
export function unverifiedPayload(envelope: string): unknown {
  const dot = envelope.indexOf('.');
  if (dot < 1 || envelope.length > 8192) return null;
  try {
    return JSON.parse(fromUtf8(fromBase64Url(envelope.slice(0, dot))));
  } catch {
    return null;
  }
}

export const SELF_HOSTED_PATHS = {
  invites: '/node-invites',
  join: '/node-joins',
  reports: '/node-reports',
  drains: '/node-drains',
} as const;
