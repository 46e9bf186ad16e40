// The self-hosted node's calls to its portal: is it a bunsan portal at all, join, and the
// messages signed with the node's key. Every call has a deadline.
import { webcrypto } from 'node:crypto';
import type { z } from 'zod';
import { KeysResponse } from '../protocol/api.ts';
import type { CryptoLike } from '../protocol/crypto-like.ts';
import { BunsanError, fromEnvelope } from '../protocol/errors.ts';
import {
  JoinResponse, NodeDrainResponse, NodeReportResponse, SELF_HOSTED_PATHS, SIGNED_MESSAGE_TTL,
  type JoinProof, type NodeDrainRequest, type NodeReport,
} from '../protocol/self-hosted/messages.ts';
import { importPrivateKey, signEnvelope } from '../protocol/signing.ts';
import type { NodeIdentity } from './identity.ts';

const cryptoLike = webcrypto as unknown as CryptoLike;
const DEADLINE_MS = 30_000;

const api = (portal: string, path: string) => `${portal.replace(/\/+$/, '')}/api/v1${path}`;

async function call<S extends z.ZodType>(portal: string, path: string, schema: S, init: RequestInit, stop?: AbortSignal): Promise<z.infer<S>> {
  let res: Response;
  try {
    const deadline = AbortSignal.timeout(DEADLINE_MS);
    // AbortSignal.any is Node 20.3+; on an older 20 a stopping node waits out the deadline instead.
    const signal = stop && typeof AbortSignal.any === 'function' ? AbortSignal.any([deadline, stop]) : deadline;
    res = await fetch(api(portal, path), { ...init, signal });
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    throw new BunsanError('node_unreachable', `portal ${portal} cannot be reached: ${cause?.code ?? cause?.message ?? (err as Error).message}`);
  }
  const body = await res.json().catch(() => null);
  if (!res.ok) {
    const e = fromEnvelope(res.status, body);
    // Anything but our envelope means something other than a bunsan portal answered.
    if (!(body as { error?: unknown } | null)?.error) throw notAPortal(portal);
    throw e;
  }
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw notAPortal(portal);
  return parsed.data;
}

const notAPortal = (portal: string) => new BunsanError('bad_request', `${portal} is not a bunsan portal`);

/** The management tier's public key, which also shows that a bunsan portal answers there. */
export async function portalKey(portal: string): Promise<string> {
  if (!/^https?:\/\/[^/]+/i.test(portal)) throw new BunsanError('bad_request', `portal must be an http(s) URL, got "${portal}"`);
  return (await call(portal, '/keys', KeysResponse, { method: 'GET' })).signingPublicKey;
}

export async function joinPortal(portal: string, token: string, identity: NodeIdentity, offer: Omit<JoinProof, 't' | 'k' | 'at' | 'exp'>) {
  const key = await importPrivateKey(cryptoLike, identity.privateKey);
  const now = Date.now();
  const proof = await signEnvelope(cryptoLike, key, {
    t: 'join', k: identity.publicKey, ...offer, at: now, exp: Math.floor(now / 1000) + SIGNED_MESSAGE_TTL,
  } satisfies JoinProof);
  return call(portal, SELF_HOSTED_PATHS.join, JoinResponse, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token, proof }),
  });
}

/** Signs messages with the node's key, each dated after the one before. */
export function nodeSigner(identity: NodeIdentity) {
  const key = importPrivateKey(cryptoLike, identity.privateKey);
  let last = 0;
  const at = () => (last = Math.max(Date.now(), last + 1));
  const sign = async (msg: object) => signEnvelope(cryptoLike, await key, msg);
  const expiry = (t: number) => Math.floor(t / 1000) + SIGNED_MESSAGE_TTL;
  return {
    /** `stop`: the node is stopping, and a report still on its way is given up */
    async report(portal: string, body: Omit<NodeReport, 't' | 'at' | 'exp'>, stop?: AbortSignal) {
      const t = at();
      const envelope = await sign({ t: 'report', ...body, at: t, exp: expiry(t) } satisfies NodeReport);
      return call(portal, SELF_HOSTED_PATHS.reports, NodeReportResponse, { method: 'POST', headers: { authorization: `Bearer ${envelope}` } }, stop);
    },
    async drain(portal: string, n: string) {
      const t = at();
      const envelope = await sign({ t: 'drain', n, at: t, exp: expiry(t) } satisfies NodeDrainRequest);
      return call(portal, SELF_HOSTED_PATHS.drains, NodeDrainResponse, { method: 'POST', headers: { authorization: `Bearer ${envelope}` } });
    },
  };
}
