// The whole system on loopback: the portal (with the managers and the D1 registry) and N
// distribution nodes, each a workerd instance with its own persistent R2 bucket, and optionally
// self-hosted nodes (scripts/stack/self-hosted.ts), all state under one folder. Used by
// `npm start`, the system tests and the benchmark.
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { D1Database } from '@cloudflare/workers-types';
import { Log, LogLevel, Miniflare } from 'miniflare';
import { buildWorkers, repoRoot } from './build.ts';
import { applyMigrations } from './migrations.ts';
import { rateLimitBindings } from './rate-limits.ts';
import { loadOrCreateSecrets, type StackSecrets } from './secrets.ts';
import { knownSelfHostedIds, startSelfHostedNodes, type SelfHostedNode } from './self-hosted.ts';
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
  /** the node lifecycle's clock: seconds between sweeps (0: none, run them through the API), a down node's grace period, an orphan's */
  lifecycle?: Partial<Lifecycle>;
  /** demand's settings (DEMAND_* vars of edge/demand-policy.ts), for tests that watch copies rise and fall quickly */
  demand?: Record<string, string>;
}

export interface Lifecycle {
  sweepSeconds: number; downGraceSeconds: number; orphanGraceSeconds: number; inventorySeconds: number;
  /** copies to or from one node at once, and their bytes per second (the deployment's defaults when absent) */
  movesPerNode?: number; moveBytesPerSecond?: number;
}

/** Locally the sweep runs often and grace periods are short, so that what happens can be watched. */
export const LOCAL_LIFECYCLE: Lifecycle = { sweepSeconds: 10, downGraceSeconds: 120, orphanGraceSeconds: 600, inventorySeconds: 600 };

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
  /** the registry, for tests that read (or damage) it directly */
  registry(): Promise<D1Database>;
  stop(): Promise<void>;
}

function envSeconds(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0 || n > 30 * 86_400) throw new Error(`${name} must be a number of seconds (0-${30 * 86_400})`);
  return n;
}

export function stackOptionsFromEnv(env = process.env): Required<Omit<StackOptions, 'publicUrls' | 'demand'>> & { publicUrls?: string[] } {
  const nodes = Number(env.BUNSAN_NODES ?? 3);
  const port = Number(env.BUNSAN_PORT ?? 8787);
  const selfHosted = Number(env.BUNSAN_SELF_HOSTED ?? 0);
  if (!Number.isInteger(nodes) || nodes < 1 || nodes > 64) throw new Error('BUNSAN_NODES must be 1-64');
  if (!Number.isInteger(selfHosted) || selfHosted < 0 || selfHosted > 16) throw new Error('BUNSAN_SELF_HOSTED must be 0-16');
  if (!Number.isInteger(port) || port < 1 || port + nodes + selfHosted > 65535) throw new Error('BUNSAN_PORT must be a port number');
  const publicUrls = env.BUNSAN_NODE_PUBLIC_URLS ? env.BUNSAN_NODE_PUBLIC_URLS.split(',').map((s) => s.trim()) : undefined;
  if (publicUrls && publicUrls.length !== nodes) throw new Error(`BUNSAN_NODE_PUBLIC_URLS lists ${publicUrls.length} URLs for ${nodes} nodes`);
  const lifecycle: Lifecycle = {
    sweepSeconds: envSeconds(env, 'BUNSAN_SWEEP_SECONDS', LOCAL_LIFECYCLE.sweepSeconds),
    downGraceSeconds: envSeconds(env, 'BUNSAN_DOWN_GRACE_SECONDS', LOCAL_LIFECYCLE.downGraceSeconds),
    orphanGraceSeconds: envSeconds(env, 'BUNSAN_ORPHAN_GRACE_SECONDS', LOCAL_LIFECYCLE.orphanGraceSeconds),
    inventorySeconds: envSeconds(env, 'BUNSAN_INVENTORY_SECONDS', LOCAL_LIFECYCLE.inventorySeconds),
  };
  return { home: resolve(env.BUNSAN_HOME ?? '.bunsan'), port, nodes, publicUrls, host: '127.0.0.1', lifecycle, selfHosted };
}

export async function startStack(opts: StackOptions = {}): Promise<Stack> {
  const home = resolve(opts.home ?? '.bunsan');
  const port = opts.port ?? 8787;
  const host = opts.host ?? '127.0.0.1';
  const count = opts.nodes ?? 3;
  const life: Lifecycle = { ...LOCAL_LIFECYCLE, ...opts.lifecycle };
  mkdirSync(home, { recursive: true });
  const secrets = await loadOrCreateSecrets(home);
  const [scripts, web] = await Promise.all([buildWorkers(join(home, 'build')), snapshotWeb(join(home, 'web'))]);

  const portalDir = join(home, 'portal');
  // BUNSAN_LOG=warn (or info, debug) shows what the Workers print: a manager's failed copy, a sweep that stopped.
  const level = process.env.BUNSAN_LOG ? LogLevel[process.env.BUNSAN_LOG.toUpperCase() as keyof typeof LogLevel] : undefined;
  const portal = new Miniflare({
    ...(level !== undefined ? { log: new Log(level) } : {}),
    name: 'portal', host, port, modules: true, modulesRoot: join(home, 'build'), scriptPath: scripts.portal, compatibilityDate: COMPATIBILITY_DATE,
    d1Databases: { DB: 'bunsan-registry' }, d1Persist: join(portalDir, 'd1'),
    durableObjects: {
      MANAGER: { className: 'ContentManager', useSQLite: true },
      GATE: { className: 'NodeGate', useSQLite: true },
      SWEEPER: { className: 'Sweeper', useSQLite: true },
    },
    durableObjectsPersist: join(portalDir, 'do'),
    bindings: {
      ...secrets,
      DOWN_GRACE_SECONDS: String(life.downGraceSeconds), ORPHAN_GRACE_SECONDS: String(life.orphanGraceSeconds),
      INVENTORY_EVERY_SECONDS: String(life.inventorySeconds),
      // Local self-hosted nodes report every 10 s (scripts/stack/self-hosted.ts).
      REPORT_SILENCE_SECONDS: '60',
      ...(life.movesPerNode ? { MOVES_PER_NODE: String(life.movesPerNode) } : {}),
      ...(life.moveBytesPerSecond ? { MOVE_BYTES_PER_SECOND: String(life.moveBytesPerSecond) } : {}),
      // Locally there is no platform to say where a viewer is: a client may name its region in
      // this header (a load generator plays viewers in several regions with it).
      CLIENT_REGION_HEADER: 'x-bunsan-viewer-region',
      ...opts.demand,
    },
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
  // Worker nodes first, as a fresh stack's registration expects; the self-hosted nodes of an
  // earlier start are this stack's too, and must not be drained as strangers.
  await registerNodes(portalUrl, secrets.ADMIN_TOKEN, nodes, knownSelfHostedIds(home, opts.selfHosted ?? 0));
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
  // The cron trigger of a deployment, as a timer: the same scheduled handler, every few seconds.
  let sweeping: Promise<unknown> | null = null;
  const sweep = async () => {
    if (sweeping) return;
    sweeping = portal.getWorker().then((w) => w.scheduled({ cron: '* * * * *' })).catch((err: Error) => console.warn(`sweep failed: ${err.message}`));
    await sweeping;
    sweeping = null;
  };
  const timer = life.sweepSeconds > 0 ? setInterval(sweep, life.sweepSeconds * 1000) : null;
  timer?.unref();
  return {
    home, portalUrl, secrets, nodes: all, selfHosted,
    registry: () => portal.getD1Database('DB'),
    async stop() {
      if (timer) clearInterval(timer);
      await sweeping;
      // Self-hosted nodes first: they finish their transfers while the portal still answers.
      await Promise.all(selfHosted.map((n) => n.stop()));
      await Promise.all([...nodes.map((n) => n.stop()), portal.dispose()]);
    },
  };
}

/**
 * A fresh stack's nodes are registered active (nothing is stored yet). Over existing state, a node
 * this stack runs for the first time is added through the join path (it receives its share), a
 * known one keeps its state with its current URL, and one an earlier, larger stack had is drained.
 * Self-hosted nodes join by invitation (self-hosted.ts) and are left to the lifecycle.
 */
async function registerNodes(portalUrl: string, adminToken: string, nodes: LocalNode[], selfHosted: string[]): Promise<void> {
  const headers = { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' };
  const call = async (method: string, path: string, body?: unknown) => {
    const r = await fetch(`${portalUrl}/api/v1${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    if (!r.ok) throw new Error(`${method} ${path} failed: ${r.status} ${await r.text()}`);
  };
  const known = ((await (await fetch(`${portalUrl}/api/v1/nodes`)).json()) as { nodes: { id: string; state: string }[] }).nodes;
  const fresh = known.length === 0;
  const ours = new Set([...nodes.map((n) => n.id), ...selfHosted]);
  for (const n of nodes) {
    const k = known.find((x) => x.id === n.id);
    if (fresh || (k && k.state !== 'retired')) await call('PUT', '/nodes', { id: n.id, url: n.publicUrl, region: 'local', grade: 1, weight: 1 });
    else await call('POST', '/nodes', { id: n.id, url: n.publicUrl, region: 'local', grade: 1, weight: 1 });
  }
  for (const k of known) {
    if (!ours.has(k.id) && (k.state === 'active' || k.state === 'joining')) await call('POST', `/nodes/${k.id}/drain`).catch((err: Error) => console.warn(err.message));
  }
}
