// Self-hosted nodes beside the Worker nodes of the local stack (BUNSAN_SELF_HOSTED=N): each is
// `bunsan node serve` in a child process of its own (one process: stopping or killing it by its
// pid takes nothing else along) over a folder under the state folder. It stays in the stack's
// process group, so that Ctrl-C reaches it as it reaches the workerd processes, and it stops
// gracefully by itself. The first start
// joins through the same invitation path an operator and a machine's owner would use; later
// starts need only the folder.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './build.ts';
import type { LocalNode } from './stack.ts';

const READY_MS = 60_000;
/** Reports every few seconds, so the portal's view of a local node is never stale for long. */
const REPORT_SECONDS = 10;

export const selfHostedRoot = (home: string) => join(home, 'selfhosted');

/** Ids of the first `count` self-hosted nodes that joined in an earlier start, from their folders. */
export function knownSelfHostedIds(home: string, count: number): string[] {
  const root = selfHostedRoot(home);
  if (!existsSync(root)) return [];
  return readdirSync(root).filter((d) => /^s\d+$/.test(d) && Number(d.slice(1)) <= count).flatMap((d) => {
    try {
      return [(JSON.parse(readFileSync(join(root, d, 'node.json'), 'utf8')) as { id: string }).id];
    } catch {
      return [];
    }
  });
}

async function invite(portalUrl: string, adminToken: string): Promise<string> {
  const res = await fetch(`${portalUrl}/api/v1/node-invites`, {
    method: 'POST', headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ region: 'local', ttlSeconds: 600 }), signal: AbortSignal.timeout(30_000),
  });
  if (res.status !== 201) throw new Error(`inviting a self-hosted node failed: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { token: string }).token;
}

export interface SelfHostedNode extends LocalNode {
  /** SIGKILL to the node's process: it stops dead, mid-transfer */
  kill(): Promise<void>;
}

export async function startSelfHostedNodes(o: {
  home: string; portalUrl: string; adminToken: string; count: number; basePort: number; host: string;
}): Promise<SelfHostedNode[]> {
  const nodes: SelfHostedNode[] = [];
  for (let i = 1; i <= o.count; i++) {
    const dir = join(selfHostedRoot(o.home), `s${i}`);
    const url = `http://${o.host}:${o.basePort + i - 1}`;
    mkdirSync(selfHostedRoot(o.home), { recursive: true });
    let child: ChildProcess | null = null;
    let exited: Promise<void> = Promise.resolve();
    const node: SelfHostedNode = {
      id: '', kind: 'self-hosted', url, publicUrl: url, dataDir: dir, running: false,
      async start() {
        if (child) return;
        const joined = existsSync(join(dir, 'node.json'));
        const args = [join(repoRoot, 'cli/bin.mjs'), 'node', 'serve', '--dir', dir, '--port', String(o.basePort + i - 1), '--host', o.host,
          '--report-every', String(REPORT_SECONDS),
          ...(joined ? [] : ['--portal', o.portalUrl, '--join', await invite(o.portalUrl, o.adminToken)])];
        const log = openSync(`${dir}.log`, 'a');
        const c = spawn(process.execPath, args, { stdio: ['ignore', log, log], env: process.env });
        closeSync(log);
        child = c;
        exited = new Promise((done) => c.once('exit', () => { done(); }));
        void exited.then(() => { if (child === c) { child = null; node.running = false; } });
        await waitReady(url, dir, exited);
        node.id = (JSON.parse(readFileSync(join(dir, 'node.json'), 'utf8')) as { id: string }).id;
        node.running = true;
      },
      async stop() {
        const c = child;
        if (!c?.pid) return;
        // SIGTERM: the node finishes the transfers under way, then exits.
        try { process.kill(c.pid, 'SIGTERM'); } catch { /* already gone */ }
        await exited;
      },
      async kill() {
        const c = child;
        if (!c?.pid) return;
        try { process.kill(c.pid, 'SIGKILL'); } catch { /* already gone */ }
        await exited;
      },
    };
    await node.start();
    nodes.push(node);
  }
  return nodes;
}

/** Until the node answers its health check as itself (not "starting"), or its process ends. */
async function waitReady(url: string, dir: string, exited: Promise<void>): Promise<void> {
  let gone = false;
  void exited.then(() => { gone = true; });
  const deadline = Date.now() + READY_MS;
  while (Date.now() < deadline) {
    if (gone) throw new Error(`self-hosted node in ${dir} stopped: ${lastLine(`${dir}.log`)}`);
    const ok = await fetch(`${url}/v1/health`, { signal: AbortSignal.timeout(2000) }).then((r) => r.status === 200, () => false);
    if (ok && existsSync(join(dir, 'node.json'))) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`self-hosted node in ${dir} did not start within ${READY_MS / 1000} s: ${lastLine(`${dir}.log`)}`);
}

function lastLine(file: string): string {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').pop() ?? '';
  } catch {
    return '';
  }
}
