// How a manager talks to distribution nodes: batch checks (is this chunk really there, under
// this content and stamp?) and batch deletes, each with a short-lived management token.
import { NodeCheckResponse, NodeDeleteResponse } from '../../protocol/api.ts';
import { BunsanError, fromEnvelope } from '../../protocol/errors.ts';
import { NODE_PATHS } from '../../protocol/node-protocol.ts';
import { expiresIn, issueToken, TOKEN_TTL } from '../../protocol/tokens.ts';
import type { z } from 'zod';

export interface NodeClientDeps {
  fetch: typeof fetch;
  key: CryptoKey;
  now: () => number;
}

const BATCH = 1000;

async function call<S extends z.ZodType>(
  deps: NodeClientDeps, node: { id: string; url: string }, path: string, contentId: string, hashes: string[], schema: S,
): Promise<z.infer<S>> {
  const token = await issueToken(crypto, deps.key, { t: 'mgmt', n: node.id, c: contentId, exp: expiresIn(deps.now(), TOKEN_TTL.mgmt) });
  let res: Response;
  try {
    res = await deps.fetch(node.url.replace(/\/+$/, '') + path, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ hashes }),
    });
  } catch (err) {
    throw new BunsanError('node_unreachable', `node ${node.id} is unreachable: ${(err as Error).message}`);
  }
  const body = await res.json().catch(() => null);
  if (!res.ok) throw fromEnvelope(res.status, body);
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw new BunsanError('node_unreachable', `node ${node.id} sent a malformed answer`);
  return parsed.data;
}

export async function checkOnNode(deps: NodeClientDeps, node: { id: string; url: string }, contentId: string, hashes: string[]) {
  const out: z.infer<typeof NodeCheckResponse>['chunks'] = [];
  for (let i = 0; i < hashes.length; i += BATCH) {
    const r = await call(deps, node, NODE_PATHS.check, contentId, hashes.slice(i, i + BATCH), NodeCheckResponse);
    out.push(...r.chunks);
  }
  return out;
}

export async function deleteOnNode(deps: NodeClientDeps, node: { id: string; url: string }, contentId: string, hashes: string[]) {
  const deleted: string[] = [];
  for (let i = 0; i < hashes.length; i += BATCH) {
    const r = await call(deps, node, NODE_PATHS.deleteBatch, contentId, hashes.slice(i, i + BATCH), NodeDeleteResponse);
    deleted.push(...r.deleted);
  }
  return deleted;
}
