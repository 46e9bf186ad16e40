// A whole bunsan inside one workerd for edge tests: the portal app, its managers, D1, and two
// live nodes (the node app over BUCKET and BUCKET2; a third, n4, over BUCKET3, for the tests that
// register it) reached through a routed global fetch, so
// that real uploads, commits and deletes run end to end and their state can be read back.
import { env } from 'cloudflare:test';
import { vi } from 'vitest';
import { webcrypto } from 'node:crypto';
import nodeApp from '../../edge/node/index.ts';
import portal from '../../edge/portal/index.ts';
import { createApiClient } from '../../protocol/api-client.ts';
import type { OpenUploadRequest } from '../../protocol/api.ts';
import type { CryptoLike } from '../../protocol/crypto-like.ts';
import { uploadDirect } from '../../protocol/upload/direct.ts';

export const ADMIN_TOKEN = 'test-admin-token';
export const JSON_CT = { 'content-type': 'application/json' };
export const LIVE = { n1: env.BUCKET, n2: env.BUCKET2, n4: env.BUCKET3 } as const;
export type LiveNode = keyof typeof LIVE;
export const nodeUrl = (id: string) => `http://${id}.node.test`;
export const nodeEnv = (id: LiveNode) => ({ BUCKET: LIVE[id], NODE_ID: id, SIGNING_PUBLIC_KEY: env.SIGNING_PUBLIC_KEY, REGION: 'test' });
export const cryptoLike = (globalThis.crypto ?? webcrypto) as unknown as CryptoLike;

/** Nodes currently "down": their fetches fail like a lost connection. */
export const down = new Set<string>();

/** Routes http://nX.node.test to the node app (the managers use the global fetch at call time). */
export function routeNodes(): void {
  const real = globalThis.fetch;
  vi.stubGlobal('fetch', async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const m = /^(n\d+)\.node\.test$/.exec(url.hostname);
    if (!m) return real(input, init);
    if (down.has(m[1]) || !(m[1] in LIVE)) throw new TypeError('Network connection lost.');
    return nodeApp.request(input instanceof Request ? input : url.toString(), init, nodeEnv(m[1] as LiveNode));
  });
}

export const portalCall = (path: string, init: RequestInit = {}) => portal.request(`http://portal.test${path}`, init, env);
export const nodeCall = (id: LiveNode, path: string, init: RequestInit = {}) => nodeApp.request(`${nodeUrl(id)}${path}`, init, nodeEnv(id));
export const bearerOf = (token: string) => ({ authorization: `Bearer ${token}` });

export async function envelope(res: Response): Promise<[number, string | undefined]> {
  const body = (await res.json().catch(() => null)) as { error?: { code: string } } | null;
  return [res.status, body?.error?.code];
}

/** Registers a node (active), or changes a known one's grade; `draining`/`active` go through drain and undrain. */
export async function registerNode(id: string, grade = 1, state: 'active' | 'draining' = 'active'): Promise<void> {
  const admin = { ...bearerOf(ADMIN_TOKEN), ...JSON_CT };
  const res = await portalCall('/api/v1/nodes', { method: 'PUT', headers: admin, body: JSON.stringify({ id, url: nodeUrl(id), grade }) });
  if (res.status !== 200) throw new Error(`register ${id}: ${res.status} ${await res.text()}`);
  const list = (await (await portalCall('/api/v1/nodes')).json()) as { nodes: { id: string; state: string }[] };
  const now = list.nodes.find((n) => n.id === id)!.state;
  const action = state === 'draining' && now !== 'draining' ? 'drain' : state === 'active' && now === 'draining' ? 'undrain' : null;
  if (!action) return;
  const r = await portalCall(`/api/v1/nodes/${id}/${action}`, { method: 'POST', headers: admin });
  if (r.status !== 200) throw new Error(`${action} ${id}: ${r.status} ${await r.text()}`);
}

export async function newProvider(name = 'p'): Promise<string> {
  const res = await portalCall('/api/v1/providers', { method: 'POST', headers: { ...bearerOf(ADMIN_TOKEN), ...JSON_CT }, body: JSON.stringify({ name }) });
  return ((await res.json()) as { token: string }).token;
}

export const apiFor = (token?: string) =>
  createApiClient({ portal: 'http://portal.test', token, fetch: async (u, i) => portal.request(u, i, env) });

export function randomBytes(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let o = 0; o < n; o += 65536) crypto.getRandomValues(out.subarray(o, Math.min(n, o + 65536)));
  return out;
}

/** Opens, uploads (direct mode, sealed here) and commits; returns the content id. */
export async function uploadBytes(token: string, bytes: Uint8Array, req: Partial<OpenUploadRequest> = {}): Promise<string> {
  const api = apiFor(token);
  const session = await api.openUpload({ name: 'f.bin', size: bytes.length, replicas: 1, chunking: { mode: 'regular', size: 65536 }, ...req });
  await uploadDirect({ api, session, crypto: cryptoLike, fetch: (u, i) => fetch(u, i), read: async (o, l) => bytes.subarray(o, o + l) });
  await api.commit(session.id);
  return session.id;
}
