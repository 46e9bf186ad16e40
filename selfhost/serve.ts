// `bunsan node serve`: a self-hosted distribution node. On first start it makes its key pair,
// joins the portal with the operator's one-time token, and keeps what it learned in its folder;
// later starts need only the folder. The order of the first start is chosen so that every
// refusal (folder, port, portal, token) leaves nothing behind: the port is bound first, then the
// portal is asked, and only an accepted join writes the node's files.
import { webcrypto } from 'node:crypto';
import { existsSync, mkdirSync, rmSync, statSync, unlinkSync, writeFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { CryptoLike } from '../protocol/crypto-like.ts';
import { BunsanError } from '../protocol/errors.ts';
import { generateSigningKeyPair } from '../protocol/signing.ts';
import { openDiskStore, type DiskStore } from './disk-store.ts';
import { lockFolder } from './folder-lock.ts';
import { hasJoined, loadNode, saveConfig, saveIdentity, type NodeConfig, type NodeIdentity } from './identity.ts';
import { createSelfHostedApp } from './node-app.ts';
import { joinPortal, nodeSigner, portalKey } from './portal-client.ts';
import { startReporter, type Reporter } from './reporter.ts';
import { listen, type RunningServer } from './server.ts';
import { NODE_VERSION } from './version.ts';

export const DEFAULT_PORT = 7070;
export const DEFAULT_REPORT_MS = 60_000;

export interface ServeOptions {
  dir: string;
  port?: number;
  host?: string;
  publicUrl?: string;
  capacity?: number | null;
  portal?: string;
  join?: string;
  reportEveryMs?: number;
  log?: (line: string) => void;
}

export interface RunningNode {
  id: string;
  url: string;
  publicUrl: string;
  config: NodeConfig;
  store: DiskStore;
  /** finishes the transfers under way (up to `graceMs`), then stops */
  stop(graceMs?: number): Promise<void>;
}

const notReady = () => Response.json({ error: { code: 'node_unreachable', message: 'the node is starting' } }, { status: 503 });

export async function serveNode(o: ServeOptions): Promise<RunningNode> {
  const log = o.log ?? ((l: string) => console.log(l));
  const dir = resolve(o.dir);
  const created = prepareDir(dir);
  const joined = hasJoined(dir);
  if (joined && o.join) throw new BunsanError('bad_request', `${dir} already holds node ${loadNode(dir).config.id}: start it with just --dir`);
  if (!joined && (!o.portal || !o.join)) {
    undo(dir, created);
    throw new BunsanError('bad_request', `${dir} holds no node yet: the first start needs --portal URL --join TOKEN`);
  }
  let release: () => void;
  try {
    release = lockFolder(dir);
  } catch (err) {
    undo(dir, created);
    throw err;
  }

  let app: ((req: Request) => Response | Promise<Response>) | null = null;
  let server: RunningServer | null = null;
  let identity: NodeIdentity;
  let config: NodeConfig;
  try {
    const saved = joined ? loadNode(dir) : null;
    const host = o.host ?? saved?.config.host ?? '0.0.0.0';
    const port = o.port ?? saved?.config.port ?? DEFAULT_PORT;
    server = await listen((req) => (app ? app(req) : notReady()), port, host);
    if (saved) {
      identity = saved.identity;
      config = {
        ...saved.config,
        port: o.port ?? saved.config.port, host,
        ...(o.publicUrl ? { url: o.publicUrl } : {}),
        ...(o.capacity !== undefined ? { capacity: o.capacity } : {}),
      };
    } else {
      const portal = o.portal!;
      await portalKey(portal); // a clear "not a bunsan portal" before the token is spent
      identity = await generateSigningKeyPair(webcrypto as unknown as CryptoLike);
      const url = o.publicUrl ?? server.url;
      const j = await joinPortal(portal, o.join!, identity, { url, capacity: o.capacity ?? null, version: NODE_VERSION });
      config = {
        id: j.id, portal, url, signingPublicKey: j.signingPublicKey, region: j.region, grade: j.grade,
        capacity: o.capacity ?? j.capacity ?? null, port: o.port ?? port, host, joinedAt: Date.now(),
      };
      saveIdentity(dir, identity);
    }
    saveConfig(dir, config);
  } catch (err) {
    await server?.close(0);
    release();
    undo(dir, created);
    throw err;
  }

  let served = 0;
  let reporter: Reporter | null = null;
  const store = await openDiskStore({ dir, capacity: config.capacity, onCorrupt: (c) => {
    log(`chunk ${c.hash} is damaged (${c.why}): set aside in corrupt/, no longer served, reported`);
    reporter?.corrupt(c);
  } });
  app = createSelfHostedApp({
    store, nodeId: config.id, signingPublicKey: config.signingPublicKey, region: config.region, served: (n) => { served += n; },
  }).fetch;
  const every = o.reportEveryMs ?? DEFAULT_REPORT_MS;
  reporter = startReporter({
    portal: config.portal, nodeId: config.id, store, signer: nodeSigner(identity), version: NODE_VERSION,
    served: () => served, everyMs: every, log,
  });
  const sweep = setInterval(() => void store.sweepOrders().catch(() => {}), 3600_000);
  sweep.unref();

  const cap = config.capacity === null ? 'as much as the disk has' : fmt(config.capacity);
  log([
    `bunsan node ${config.id} (${NODE_VERSION}; region ${config.region || '-'}, grade ${config.grade}) in ${dir}`,
    `  listening on ${server.url}${config.url !== server.url ? `, advertised as ${config.url}` : ''}`,
    `  holds ${fmt(store.bytesHeld())} in ${store.chunksHeld()} chunks; may hold ${cap}; ${fmt(await store.freeBytes())} free`,
    `  reports to ${config.portal} every ${Math.round(every / 1000)} s`,
  ].join('\n'));

  const running = server;
  let stopping: Promise<void> | null = null;
  return {
    id: config.id, url: running.url, publicUrl: config.url, config, store,
    stop(graceMs = 5000) {
      stopping ??= (async () => {
        clearInterval(sweep);
        await running.close(graceMs);
        await reporter?.stop();
        release();
      })();
      return stopping;
    },
  };
}

/** Makes the folder if needed and checks it can be written; true when this call made it. */
function prepareDir(dir: string): boolean {
  if (existsSync(dir) && !statSync(dir).isDirectory()) throw new BunsanError('bad_request', `${dir} is not a folder`);
  const created = !existsSync(dir);
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const probe = join(dir, `.writable-${process.pid}`);
    writeFileSync(probe, 'ok');
    unlinkSync(probe);
  } catch (err) {
    if (created) {
      try { rmSync(dir, { recursive: true, force: true }); } catch { /* it was never made */ }
    }
    throw new BunsanError('bad_request', `${dir} is not a writable folder (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  return created;
}

/** A refused first start leaves no trace: the folder goes if this start made it and it holds nothing else. */
function undo(dir: string, created: boolean): void {
  if (created && readdirSync(dir).length === 0) rmSync(dir, { recursive: true, force: true });
}

function fmt(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let u = 0;
  let v = n;
  while (v >= 1024 && u < units.length - 1) { v /= 1024; u++; }
  return `${u === 0 ? v : v.toFixed(1)} ${units[u]}`;
}
