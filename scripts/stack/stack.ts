// The whole system on loopback: the portal (with the managers and the D1 registry) and N
// distribution nodes, each a workerd instance with its own persistent R2 bucket, and optionally
// self-hosted nodes (scripts/stack/self-hosted.ts), all state under one folder. Used by
// `npm start`, the system tests and the benchmark.
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Miniflare } from 'miniflare';
import { buildWorkers, repoRoot } from './build.ts';
import { applyMigrations } from './migrations.ts';
import { rateLimitBindings } from './rate-limits.ts';
import { loadOrCreateSecrets, type StackSecrets } from './secrets.ts';
import { startSelfHostedNodes, type SelfHostedNode } from './self-hosted.ts';
import { snapshotWeb } from '../web/build.ts';
import { assetHeaderRules } from '../../edge/portal/security-headers.ts';

export const COMPATIBILITY_DATE = '2026-07-01';

export interface StackOptions {
  home?: string;
  port?: number;
  nodes?: number;
  /** advertised node URLs (a proxy or CDN in front); defaults to where each node listens */
  publicUrls?: string[];
  host?: string;
  /** self-hosted nodes beside the Worker nodes, on the ports after theirs */
  selfHosted?: number;
}

export interface LocalNode {
  id: string;
  kind: 'worker' | 'self-hosted';
  url: string;
  publicUrl: string;
  dataDir: string;
  running: boolean;
  stop(): Promise<void>;
  start(): Promise<void>;
}

export interface Stack {
  home: string;
  portalUrl: string;
  secrets: StackSecrets;
  /** every node: the Worker nodes, then the self-hosted ones */
  nodes: LocalNode[];
  selfHosted: SelfHostedNode[];
  stop(): Promise<void>;
}

export function stackOptionsFromEnv(env = process.env): Required<Omit<StackOptions, 'publicUrls'>> & { publicUrls?: string[] } {
  const nodes = Number(env.BUNSAN_NODES ?? 3);
  const port = Number(env.BUNSAN_PORT ?? 8787);
  const selfHosted = Number(env.BUNSAN_SELF_HOSTED ?? 0);
  if (!Number.isInteger(nodes) || nodes < 1 || nodes > 64) throw new Error('BUNSAN_NODES must be 1-64');
  if (!Number.isInteger(selfHosted) || selfHosted < 0 || selfHosted > 16) throw new Error('BUNSAN_SELF_HOSTED must be 0-16');
  if (!Number.isInteger(port) || port < 1 || port + nodes + selfHosted > 65535) throw new Error('BUNSAN_PORT must be a port number');
  const publicUrls = env.BUNSAN_NODE_PUBLIC_URLS ? env.BUNSAN_NODE_PUBLIC_URLS.split(',').map((s) => s.trim()) : undefined;
  if (publicUrls && publicUrls.length !== nodes) throw new Error(`BUNSAN_NODE_PUBLIC_URLS lists ${publicUrls.length} URLs for ${nodes} nodes`);
  return { home: resolve(env.BUNSAN_HOME ?? '.bunsan'), port, nodes, publicUrls, host: '127.0.0.1', selfHosted };
}

export async function startStack(opts: StackOptions = {}): Promise<Stack> {
  const home = resolve(opts.home ?? '.bunsan');
  const port = opts.port ?? 8787;
  const host = opts.host ?? '127.0.0.1';
  const count = opts.nodes ?? 3;
  mkdirSync(home, { recursive: true });
  const secrets = await loadOrCreateSecrets(home);
  const [scripts, web] = await Promise.all([buildWorkers(join(home, 'build')), snapshotWeb(join(home, 'web'))]);

  const portalDir = join(home, 'portal');
  const portal = new Miniflare({
    name: 'portal', host, port, modules: true, modulesRoot: join(home, 'build'), scriptPath: scripts.portal, compatibilityDate: COMPATIBILITY_DATE,
    d1Databases: { DB: 'bunsan-registry' }, d1Persist: join(portalDir, 'd1'),
    durableObjects: { MANAGER: { className: 'ContentManager', useSQLite: true } }, durableObjectsPersist: join(portalDir, 'do'),
    bindings: { ...secrets },
    ratelimits: rateLimitBindings(),
    // The PWA (its build copied into the state folder), as wrangler.toml's [assets]: the API
    // always reaches the Worker.
    assets: {
      directory: web, routerConfig: { has_user_worker: true, static_routing: { user_worker: ['/api/*'] } },
      assetConfig: { not_found_handling: 'single-page-application', headers: assetHeaderRules() },
    },
  });

  const nodes: LocalNode[] = Array.from({ length: count }, (_, i) => {
    const id = `n${i + 1}`;
    const nodePort = port + i + 1;
    const dataDir = join(home, 'nodes', id);
    let mf: Miniflare | null = null;
    const node: LocalNode = {
      id, kind: 'worker', dataDir, url: `http://${host}:${nodePort}`, publicUrl: opts.publicUrls?.[i] ?? `http://${host}:${nodePort}`,
      running: false,
      async start() {
        if (mf) return;
        mf = new Miniflare({
          name: id, host, port: nodePort, modules: true, modulesRoot: join(home, 'build'), scriptPath: scripts.node, compatibilityDate: COMPATIBILITY_DATE,
          r2Buckets: { BUCKET: `bunsan-chunks-${id}` }, r2Persist: join(dataDir, 'r2'),
          bindings: { NODE_ID: id, REGION: 'local', SIGNING_PUBLIC_KEY: secrets.SIGNING_PUBLIC_KEY },
        });
        await mf.ready;
        node.running = true;
      },
      async stop() {
        const m = mf;
        mf = null;
        node.running = false;
        await m?.dispose();
      },
    };
    return node;
  });

  await Promise.all([portal.ready, ...nodes.map((n) => n.start())]);
  await applyMigrations(await portal.getD1Database('DB'), join(repoRoot, 'edge/migrations'));
  const portalUrl = `http://${host}:${port}`;
  let selfHosted: SelfHostedNode[] = [];
  try {
    selfHosted = await startSelfHostedNodes({
      home, portalUrl, adminToken: secrets.ADMIN_TOKEN, count: opts.selfHosted ?? 0, basePort: port + count + 1, host,
    });
  } catch (err) {
    await Promise.all([...nodes.map((n) => n.stop()), portal.dispose()]);
    throw err;
  }
  const all: LocalNode[] = [...nodes, ...selfHosted];
  await registerNodes(portalUrl, secrets.ADMIN_TOKEN, all);
  return {
    home, portalUrl, secrets, nodes: all, selfHosted,
    async stop() {
      await Promise.all([...all.map((n) => n.stop()), portal.dispose()]);
    },
  };
}

/**
 * Running nodes are active; nodes registered by an earlier, larger stack stop taking new chunks.
 * The self-hosted ones joined as `joining`: the stack, as their operator, makes them active at
 * once, so that the demo and the first uploads use both kinds of node.
 */
async function registerNodes(portalUrl: string, adminToken: string, nodes: LocalNode[]): Promise<void> {
  const headers = { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' };
  const res = await fetch(`${portalUrl}/api/v1/nodes`);
  const known = ((await res.json()) as { nodes: { id: string; url: string; state: string }[] }).nodes;
  const ours = new Set(nodes.map((n) => n.id));
  const updates = [
    ...nodes.map((n) => ({ id: n.id, url: n.publicUrl, region: 'local', grade: 1, weight: 1, state: 'active' })),
    ...known.filter((k) => !ours.has(k.id) && (k.state === 'active' || k.state === 'joining')).map((k) => ({ id: k.id, url: k.url, region: 'local', grade: 1, weight: 1, state: 'draining' })),
  ];
  for (const body of updates) {
    const r = await fetch(`${portalUrl}/api/v1/nodes`, { method: 'PUT', headers, body: JSON.stringify(body) });
    if (!r.ok) throw new Error(`registering node ${body.id} failed: ${r.status} ${await r.text()}`);
  }
}
