// Self-hosted nodes at the portal: the operator invites one (a one-time join token); the node
// joins with it and the public key of the pair it made itself, and is created in the registry in
// state `joining` (the lifecycle sweep takes it from there); afterwards it signs its reports and
// its drain request with that key. Messages are checked against the key on the node's row, and
// must be newer than the last one accepted and unexpired (protocol/self-hosted/messages.ts).
import { Hono } from 'hono';
import type { z } from 'zod';
import { toBase64Url, toHex, utf8 } from '../../protocol/bytes.ts';
import { randomBytes } from '../../protocol/crypto-like.ts';
import { BunsanError } from '../../protocol/errors.ts';
import { sha256Hex } from '../../protocol/hash.ts';
import {
  InviteRequest, JoinProof, JoinRequest, MAX_CLOCK_SKEW_MS, NodeDrainRequest, NodeReport, SELF_HOSTED_PATHS, unverifiedPayload,
} from '../../protocol/self-hosted/messages.ts';
import { importPublicKey, openEnvelope } from '../../protocol/signing.ts';
import { bearer } from '../../protocol/tokens.ts';
import type { PortalEnv } from '../env.ts';
import { jsonBody } from '../http.ts';
import { logEvent } from '../registry/events.ts';
import { createInvite, getInvite, useInvite } from '../registry/invites.ts';
import { acceptSigned, getNode, insertNode, recordReport, setNodeKey, type NodeRow } from '../registry/nodes.ts';
import { drainNode } from '../lifecycle/node-ops.ts';
import { requireAdmin, type PortalContext, type PortalVars } from './auth.ts';

export const selfHosted = new Hono<{ Bindings: PortalEnv; Variables: PortalVars }>();

const hashToken = (token: string) => sha256Hex(crypto, utf8(token));

selfHosted.post(SELF_HOSTED_PATHS.invites, requireAdmin, async (c) => {
  const req = await jsonBody(c.req.raw, InviteRequest);
  const token = `bnj_${toBase64Url(randomBytes(crypto, 32))}`;
  const now = Date.now();
  const expiresAt = now + req.ttlSeconds * 1000;
  const capacity = req.capacity ?? null;
  await c.env.DB.batch([
    createInvite(c.env.DB, { tokenHash: await hashToken(token), region: req.region, grade: req.grade, capacity, at: now, expiresAt }),
    logEvent(c.env.DB, { at: now, kind: 'node-invited', detail: { region: req.region, grade: req.grade, capacity, expiresAt } }),
  ]);
  return c.json({ token, expiresAt, region: req.region, grade: req.grade, capacity }, 201);
});

selfHosted.post(SELF_HOSTED_PATHS.join, async (c) => {
  const { token, proof } = await jsonBody(c.req.raw, JoinRequest);
  // The proof is signed with the key it carries: the joiner holds the key it registers.
  const claimed = JoinProof.safeParse(unverifiedPayload(proof));
  if (!claimed.success) throw new BunsanError('token_invalid', 'the join proof is malformed');
  const key = await importPublicKey(crypto, claimed.data.k).catch(() => {
    throw new BunsanError('token_invalid', 'the join proof carries no usable Ed25519 key');
  });
  const p = await openEnvelope(crypto, key, proof, JoinProof);
  const now = Date.now();
  fresh(p, now);

  const tokenHash = await hashToken(token);
  const invite = await getInvite(c.env.DB, tokenHash);
  if (!invite) throw new BunsanError('token_invalid', 'unknown join token');
  if (invite.used_at !== null) throw new BunsanError('conflict', 'this join token was already used');
  if (invite.expires_at <= now) throw new BunsanError('token_expired', 'this join token has expired');
  const id = `sh-${toHex(randomBytes(crypto, 4))}`;
  if (!(await useInvite(c.env.DB, tokenHash, id, now))) throw new BunsanError('conflict', 'this join token was already used');

  const capacity = minCapacity(invite.capacity, p.capacity);
  await c.env.DB.batch([
    insertNode(c.env.DB, { id, url: p.url, region: invite.region, grade: invite.grade, weight: 1, capacity }, 'joining', 'joined with an invitation', now),
    setNodeKey(c.env.DB, id, p.k),
    logEvent(c.env.DB, { at: now, kind: 'node-joined', node: id, detail: { url: p.url, capacity, version: p.version } }),
  ]);
  return c.json({ id, signingPublicKey: c.env.SIGNING_PUBLIC_KEY, region: invite.region, grade: invite.grade, capacity, state: 'joining' }, 201);
});

selfHosted.post(SELF_HOSTED_PATHS.reports, async (c) => {
  const { node, msg } = await signedByNode(c, NodeReport);
  const now = Date.now();
  const r = await recordReport(c.env.DB, node.id, msg.at, now, msg).run();
  if (r.meta.changes !== 1) throw replayed();
  if (msg.corrupt.length > 0) {
    await c.env.DB.batch(msg.corrupt.map((x) => logEvent(c.env.DB, {
      at: now, kind: 'chunk-corrupt', node: node.id, content: x.content ?? undefined, detail: { hash: x.hash },
    })));
  }
  return c.json({ accepted: true, state: node.state }, 202);
});

selfHosted.post(SELF_HOSTED_PATHS.drains, async (c) => {
  const { node, msg } = await signedByNode(c, NodeDrainRequest);
  const r = await acceptSigned(c.env.DB, node.id, msg.at).run();
  if (r.meta.changes !== 1) throw replayed();
  // The lifecycle's own drain, as the operator's: recorded, logged, and handed to the managers,
  // which move the node's copies elsewhere (it refuses when too few nodes would be left).
  const drained = await drainNode(c.env, node.id, Date.now());
  return c.json({ id: drained.id, state: drained.state });
});

const replayed = () => new BunsanError('conflict', 'this message is not newer than the last one the node signed: a replay');

/** Checks a node-signed message in the Authorization header against the key registered for the node it names. */
async function signedByNode<S extends typeof NodeReport | typeof NodeDrainRequest>(
  c: PortalContext, schema: S,
): Promise<{ node: NodeRow; msg: z.infer<S> }> {
  const envelope = bearer(c.req.header('authorization'));
  if (!envelope) throw new BunsanError('unauthorized', 'a message signed by the node is required (Authorization: Bearer …)');
  const claimed = schema.safeParse(unverifiedPayload(envelope));
  if (!claimed.success) throw new BunsanError('token_invalid', 'the signed message is malformed');
  const node = await getNode(c.env.DB, claimed.data.n);
  if (!node?.public_key) throw new BunsanError('token_invalid', 'no self-hosted node of that id');
  const key = await importPublicKey(crypto, node.public_key);
  const msg = (await openEnvelope(crypto, key, envelope, schema)) as z.infer<S>;
  fresh(msg, Date.now());
  return { node, msg };
}

function fresh(m: { at: number; exp: number }, now: number): void {
  if (m.exp * 1000 <= now) throw new BunsanError('token_expired', 'the signed message has expired');
  if (m.at > now + MAX_CLOCK_SKEW_MS) throw new BunsanError('token_invalid', 'the signed message is dated in the future');
}

function minCapacity(a: number | null, b: number | null): number | null {
  if (a === null) return b;
  if (b === null) return a;
  return Math.min(a, b);
}
