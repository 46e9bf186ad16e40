// A throwaway local stack for one test file: its own state folder and ports, provisioned like
// `npm start` does, plus a runner for the real `bunsan` CLI against it.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { freePorts } from '../../scripts/stack/ports.ts';
export { freePorts };
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { webcrypto } from 'node:crypto';
import { repoRoot } from '../../scripts/stack/build.ts';
import { ensureCredentials } from '../../scripts/stack/provision.ts';
import { startStack, type Stack, type StackOptions } from '../../scripts/stack/stack.ts';
import { expiresIn, issueToken } from '../../protocol/tokens.ts';
import { importPrivateKey } from '../../protocol/signing.ts';
import type { CryptoLike } from '../../protocol/crypto-like.ts';

const cryptoLike = webcrypto as unknown as CryptoLike;


export interface TestStack extends Stack { token: string; dispose(): Promise<void> }

export async function startTestStack(nodes = 3, more: Pick<StackOptions, 'lifecycle' | 'home' | 'port' | 'selfHosted' | 'demand'> = {}): Promise<TestStack> {
  const home = more.home ?? mkdtempSync(join(tmpdir(), 'bunsan-test-'));
  const port = more.port ?? await freePorts(nodes + 1 + (more.selfHosted ?? 0));
  const stack = await startStack({ home, port, nodes, selfHosted: more.selfHosted, lifecycle: more.lifecycle, demand: more.demand });
  const { token } = await ensureCredentials(stack);
  return {
    ...stack, token,
    async dispose() {
      await stack.stop();
      rmSync(home, { recursive: true, force: true });
    },
  };
}

export interface CliResult { code: number; stdout: Buffer; stderr: string; json<T = any>(): T }

/** Runs `bunsan ARGS` as a user would, with the stack's state folder as BUNSAN_HOME. */
export function cli(stack: Stack, args: string[], opts: { env?: Record<string, string>; onSpawn?: (kill: () => void, pid?: number) => void } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(repoRoot, 'cli/bin.mjs'), ...args], {
      env: { ...process.env, BUNSAN_HOME: stack.home, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    opts.onSpawn?.(() => child.kill('SIGKILL'), child.pid);
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    child.on('error', reject);
    child.on('close', (code) => {
      const stdout = Buffer.concat(out);
      resolve({ code: code ?? -1, stdout, stderr: err, json: () => JSON.parse(stdout.toString()) });
    });
  });
}

/** A management token for a node, minted with the stack's signing key, to audit what it holds. */
export async function nodeInventory(stack: Stack, nodeId: string): Promise<{ hash: string; size: number; content: string }[]> {
  const node = stack.nodes.find((n) => n.id === nodeId)!;
  const key = await importPrivateKey(cryptoLike, stack.secrets.SIGNING_KEY);
  const token = await issueToken(cryptoLike, key, { t: 'mgmt', n: nodeId, exp: expiresIn(Date.now(), 60) });
  const all: { hash: string; size: number; content: string }[] = [];
  let cursor: string | null = null;
  do {
    const res = await fetch(`${node.url}/v1/inventory${cursor ? `?cursor=${encodeURIComponent(cursor)}` : ''}`, { headers: { authorization: `Bearer ${token}` } });
    if (!res.ok) throw new Error(`inventory of ${nodeId}: ${res.status} ${await res.text()}`);
    const page = (await res.json()) as { chunks: { hash: string; size: number; content: string }[]; cursor: string | null };
    all.push(...page.chunks);
    cursor = page.cursor;
  } while (cursor);
  return all;
}

/**
 * The pid of the process listening on a TCP port of this machine (from /proc: the socket's inode
 * in /proc/net/tcp, then the process holding it), so a test can freeze a node's workerd with
 * SIGSTOP: a node that stops answering without closing its connections.
 */
export function pidListeningOn(port: number): number {
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    if (!existsSync(table)) continue;
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length > 9 && f[1].endsWith(`:${hex}`) && f[3] === '0A') inodes.add(f[9]);
    }
  }
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (m && inodes.has(m[1])) return Number(pid);
      } catch {
        // the fd closed meanwhile
      }
    }
  }
  throw new Error(`no process listens on port ${port}`);
}
