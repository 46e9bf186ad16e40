// A test stack whose nodes are reached through small logging proxies: each node advertises its
// proxy's URL, so every request a browser sends a node (preflights included, which no page or
// worker API shows) is seen and counted there, then passed on unchanged.
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, createServer, request, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureCredentials } from '../../scripts/stack/provision.ts';
import { startStack } from '../../scripts/stack/stack.ts';
import { freePorts, type TestStack } from '../system/local-stack.ts';

export interface NodeRequest {
  node: string;
  method: string;
  path: string;
  /** the download token came in the query (`?t=`) */
  queryToken: boolean;
  /** an Authorization header came */
  authHeader: boolean;
  range?: string;
}

export interface CountedStack extends TestStack {
  /** every request the nodes received, in order */
  requests: NodeRequest[];
}

export const isChunkGet = (r: NodeRequest) => r.method === 'GET' && r.path.startsWith('/v1/chunks/');

function logProxy(node: string, target: string, log: NodeRequest[]): Promise<{ server: Server; url: string }> {
  const agent = new Agent({ keepAlive: true });
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', target);
    log.push({
      node, method: req.method ?? '', path: url.pathname, queryToken: url.searchParams.has('t'),
      authHeader: req.headers.authorization !== undefined, range: req.headers.range,
    });
    const up = request(url, { method: req.method, headers: { ...req.headers, host: url.host }, agent }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on('error', () => res.destroy());
    res.on('close', () => { if (!res.writableFinished) up.destroy(); });
    req.pipe(up);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => {
    resolve({ server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}` });
  }));
}

export async function startCountedStack(nodes = 3): Promise<CountedStack> {
  const home = mkdtempSync(join(tmpdir(), 'bunsan-counted-'));
  const port = await freePorts(nodes + 1);
  const requests: NodeRequest[] = [];
  // Nodes listen on the ports right after the portal's (scripts/stack/stack.ts).
  const proxies = await Promise.all(Array.from({ length: nodes }, (_, i) => logProxy(`n${i + 1}`, `http://127.0.0.1:${port + i + 1}`, requests)));
  // No background sweep: the proxies count what the browser sends, and the sweep's health checks
  // and inventory reads would arrive among it at any moment.
  const stack = await startStack({ home, port, nodes, publicUrls: proxies.map((p) => p.url), lifecycle: { sweepSeconds: 0 } });
  const { token } = await ensureCredentials(stack);
  return {
    ...stack, token, requests,
    async dispose() {
      for (const p of proxies) p.server.closeAllConnections();
      await Promise.all(proxies.map((p) => new Promise((r) => p.server.close(r))));
      await stack.stop();
      rmSync(home, { recursive: true, force: true });
    },
  };
}
