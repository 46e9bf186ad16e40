// The node-protocol suite's platform inside workerd: the node Worker's application over the
// test R2 buckets (n1 over BUCKET, its peer n2 over BUCKET2), called in-process. Copy sources
// are reached through a routed global fetch: http://nX.node.test goes to a node, a fake source's
// host to its handler, and anything else fails like a lost connection.
import { env } from 'cloudflare:workers';
import { vi } from 'vitest';
import { createNodeApp } from '../../edge/node/app.ts';
import { workerDeps } from '../../edge/node/index.ts';
import { chunkKey } from '../../edge/node/r2-store.ts';
import type { NodeEnv } from '../../edge/env.ts';
import type { NodeTarget, PeerNode } from '../node-protocol/target.ts';

const E = env as unknown as { BUCKET: R2Bucket; BUCKET2: R2Bucket; SIGNING_KEY: string; SIGNING_PUBLIC_KEY: string };
const COPY_TIMEOUT_MS = 1500;
const app = createNodeApp<NodeEnv>((e) => workerDeps(e, { copyTimeoutMs: COPY_TIMEOUT_MS }));
const envOf = (id: string, bucket: R2Bucket): NodeEnv => ({ BUCKET: bucket, NODE_ID: id, SIGNING_PUBLIC_KEY: E.SIGNING_PUBLIC_KEY, REGION: 'test-region' });
const nodes: Record<string, NodeEnv> = { n1: envOf('n1', E.BUCKET), n2: envOf('n2', E.BUCKET2) };
const fakes = new Map<string, (req: Request) => Response | Promise<Response>>();
let fakeCount = 0;

const real = globalThis.fetch;
vi.stubGlobal('fetch', async (input: RequestInfo | URL, init?: RequestInit) => {
  const req = new Request(input, init);
  const host = new URL(req.url).hostname;
  const node = /^(n\d+)\.node\.test$/.exec(host);
  if (node && nodes[node[1]]) return app.request(req, undefined, nodes[node[1]]);
  const fake = fakes.get(host);
  if (fake) {
    // A handler that never answers is cut off by the caller's deadline, as a socket would be.
    return new Promise<Response>((resolve, reject) => {
      req.signal.addEventListener('abort', () => reject(req.signal.reason), { once: true });
      Promise.resolve(fake(req)).then(resolve, reject);
    });
  }
  if (host.endsWith('.test')) throw new TypeError('Network connection lost.');
  return real(input, init);
});

const call = (id: string) => (path: string, init?: RequestInit) => Promise.resolve(app.request(`http://${id}.node.test${path}`, init, nodes[id]));

export const target: NodeTarget = {
  kind: 'worker',
  call: call('n1'),
  url: 'http://n1.node.test',
  signingKey: E.SIGNING_KEY,
  copyTimeoutMs: COPY_TIMEOUT_MS,
  async peek(hash) {
    const m = (await E.BUCKET.head(chunkKey(hash)))?.customMetadata;
    return m ? { content: m.content, stamp: m.stamp, version: m.version } : null;
  },
  async snapshot() {
    const page = await E.BUCKET.list({ include: ['customMetadata'] });
    return JSON.stringify(page.objects.map((o) => [o.key, o.etag, o.customMetadata]));
  },
  async peer(): Promise<PeerNode> {
    return { id: 'n2', url: 'http://n2.node.test', call: call('n2') };
  },
  async fakeSource(handle) {
    const host = `fake${++fakeCount}.source.test`;
    fakes.set(host, handle);
    return `http://${host}`;
  },
  async deadSource() {
    return 'http://dead.source.test';
  },
};
