// The node-protocol suite's platform on Node: the self-hosted node (the same application as the
// Worker, over a temporary folder) served by @hono/node-server on loopback and called over real
// HTTP. The peer is a second one; fake sources are small servers of their own.
import { webcrypto } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { freePorts } from '../../scripts/stack/ports.ts';
import { generateSigningKeyPair } from '../../protocol/signing.ts';
import type { CryptoLike } from '../../protocol/crypto-like.ts';
import { openDiskStore, type DiskStore } from '../../selfhost/disk-store.ts';
import { createSelfHostedApp } from '../../selfhost/node-app.ts';
import { listen, type RunningServer } from '../../selfhost/server.ts';
import type { NodeTarget, PeerNode } from '../node-protocol/target.ts';

const COPY_TIMEOUT_MS = 1500;
const keys = await generateSigningKeyPair(webcrypto as unknown as CryptoLike);
const root = mkdtempSync(join(tmpdir(), 'bunsan-node-'));
const servers: RunningServer[] = [];

async function startNode(id: string): Promise<{ store: DiskStore; server: RunningServer }> {
  const store = await openDiskStore({ dir: join(root, id), capacity: null });
  const app = createSelfHostedApp({ store, nodeId: id, signingPublicKey: keys.publicKey, region: 'test-region', copyTimeoutMs: COPY_TIMEOUT_MS });
  const server = await listen(app.fetch, 0, '127.0.0.1');
  servers.push(server);
  return { store, server };
}

const n1 = await startNode('n1');
let peer: Promise<PeerNode> | undefined;

afterAll(async () => {
  await Promise.all(servers.map((s) => s.close(100)));
  rmSync(root, { recursive: true, force: true });
});

// fetch refuses to send a body that disagrees with its Content-Length, which is exactly what the
// hostile suite sends to see the declared length refused: such a request goes through node:http.
const caller = (base: string) => (path: string, init?: RequestInit) =>
  new Headers(init?.headers).has('content-length') ? rawRequest(base + path, init!) : fetch(base + path, init);

function rawRequest(url: string, init: RequestInit): Promise<Response> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: init.method ?? 'GET', headers: Object.fromEntries(new Headers(init.headers)) }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => {
        req.destroy();
        const headers = new Headers();
        for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') headers.set(k, v);
        resolve(new Response(Buffer.concat(parts), { status: res.statusCode, headers }));
      });
    });
    req.on('error', reject);
    req.write(init.body as Uint8Array);
  });
}

export const target: NodeTarget = {
  kind: 'self-hosted',
  call: caller(n1.server.url),
  url: n1.server.url,
  signingKey: keys.privateKey,
  copyTimeoutMs: COPY_TIMEOUT_MS,
  async peek(hash) {
    return (await n1.store.head(hash))?.meta ?? null;
  },
  async snapshot() {
    const all = await n1.store.list(undefined, 1000);
    return JSON.stringify(await Promise.all(all.chunks.map(async (c) => [c.hash, c.size, (await n1.store.head(c.hash))?.meta])));
  },
  peer() {
    return (peer ??= startNode('n2').then(({ server }) => ({ id: 'n2', url: server.url, call: caller(server.url) })));
  },
  async fakeSource(handle) {
    const s = await listen(async (req) => handle(req), 0, '127.0.0.1');
    servers.push(s);
    return s.url;
  },
  async deadSource() {
    // A port nothing listens on: connections are refused.
    return `http://127.0.0.1:${await freePorts(1)}`;
  },
};
