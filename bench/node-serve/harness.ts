// The self-hosted node against a plain node:http static server serving the same chunk files
// from the same disk, in the same run: GET throughput of whole chunks at a fixed number of
// concurrent requests on loopback, and each server's resident memory (RSS, sampled from /proc)
// while it serves the whole working set once. Runs alternate between the two servers, so drift
// on a shared machine falls on both alike; the median of the runs is reported.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes, webcrypto } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Agent, get } from 'node:http';
import type { CryptoLike } from '../../protocol/crypto-like.ts';
import { newContentId } from '../../protocol/ids.ts';
import { generateSigningKeyPair, importPrivateKey } from '../../protocol/signing.ts';
import { expiresIn, issueToken } from '../../protocol/tokens.ts';
import { openDiskStore } from '../../selfhost/disk-store.ts';

const cryptoLike = webcrypto as unknown as CryptoLike;
const serverScript = fileURLToPath(new URL('./servers.ts', import.meta.url));

export interface NodeServeOptions {
  /** the working set: this many chunks of `chunkBytes` */
  chunks: number;
  chunkBytes: number;
  concurrency: number;
  /** throughput runs per server (each a pass over min(chunks, passChunks) chunks) */
  runs: number;
  passChunks: number;
  log?: (line: string) => void;
}

export interface ServerFigures {
  /** MiB/s of each throughput run */
  mibps: number[];
  medianMibps: number;
  /** RSS in MiB: after start, before the memory pass, its peak during the pass, and after it */
  rss: { idle: number; before: number; peak: number; after: number };
  memoryPassBytes: number;
}

export interface NodeServeReport {
  at: string;
  chunks: number;
  chunkBytes: number;
  workingSetBytes: number;
  concurrency: number;
  static: ServerFigures;
  node: ServerFigures;
  ratio: number;
  writeSeconds: number;
}

interface Running { url: string; pid: number; child: ChildProcess }

function startServer(kind: 'static' | 'node', dir: string, publicKey: string): Promise<Running> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', serverScript, kind, dir, publicKey], {
      detached: true, stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) resolve({ url: (JSON.parse(out.split('\n')[0]) as { url: string }).url, pid: child.pid!, child });
    });
    child.once('exit', (code) => reject(new Error(`${kind} server exited (${code}) before it listened`)));
  });
}

async function stopServer(s: Running): Promise<void> {
  const exited = new Promise((r) => s.child.once('exit', r));
  try { process.kill(-s.pid, 'SIGKILL'); } catch { /* gone */ }
  await exited;
}

const rssMiB = (pid: number) => {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : 0;
};

/** One GET, its body counted and dropped. */
function fetchCount(agent: Agent, url: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    get(url, { agent, headers }, (res) => {
      let n = 0;
      res.on('data', (d: Buffer) => { n += d.length; });
      res.on('end', () => (res.statusCode === 200 ? resolve(n) : reject(new Error(`GET ${url}: HTTP ${res.statusCode}`))));
      res.on('error', reject);
    }).on('error', reject);
  });
}

/** GETs every hash once with `concurrency` requests in flight; returns bytes and seconds. */
async function pass(agent: Agent, base: string, hashes: string[], concurrency: number, headers: Record<string, string>, onTick?: () => void) {
  let next = 0;
  let bytes = 0;
  const started = performance.now();
  const worker = async () => {
    while (next < hashes.length) {
      const n = await fetchCount(agent, `${base}/${hashes[next++]}`, headers);
      bytes += n; // after the await: `bytes += await …` would add to a stale total
      onTick?.();
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { bytes, seconds: (performance.now() - started) / 1000 };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function runNodeServeBench(o: NodeServeOptions): Promise<NodeServeReport> {
  const log = o.log ?? (() => {});
  const dir = mkdtempSync(join(tmpdir(), 'bunsan-bench-node-'));
  const keys = await generateSigningKeyPair(cryptoLike);
  const content = newContentId(cryptoLike);
  try {
    log(`writing ${o.chunks} chunks of ${o.chunkBytes} bytes through the disk store`);
    const t0 = performance.now();
    const store = await openDiskStore({ dir, capacity: null });
    const hashes: string[] = [];
    const stamp = createHash('sha256').update('bench').digest('hex');
    for (let i = 0; i < o.chunks; i++) {
      const body = randomBytes(o.chunkBytes);
      const hash = createHash('sha256').update(body).digest('hex');
      await store.create(hash, body, { content, stamp, version: '1' });
      hashes.push(hash);
    }
    const writeSeconds = (performance.now() - t0) / 1000;
    const key = await importPrivateKey(cryptoLike, keys.privateKey);
    const token = await issueToken(cryptoLike, key, { t: 'get', c: content, exp: expiresIn(Date.now(), 24 * 3600) });

    const servers = { static: await startServer('static', dir, keys.publicKey), node: await startServer('node', dir, keys.publicKey) };
    const base = { static: servers.static.url, node: `${servers.node.url}/v1/chunks` };
    const headers = { static: {}, node: { authorization: `Bearer ${token}` } };
    const agent = new Agent({ keepAlive: true, maxSockets: o.concurrency });
    const figures = {
      static: { mibps: [] as number[], rss: { idle: rssMiB(servers.static.pid), before: 0, peak: 0, after: 0 }, memoryPassBytes: 0 },
      node: { mibps: [] as number[], rss: { idle: rssMiB(servers.node.pid), before: 0, peak: 0, after: 0 }, memoryPassBytes: 0 },
    };
    try {
      const sample = hashes.slice(0, Math.min(o.passChunks, hashes.length));
      // one warm-up pass each: connections open, code paths compiled
      for (const k of ['static', 'node'] as const) await pass(agent, base[k], sample.slice(0, o.concurrency * 4), o.concurrency, headers[k]);
      for (let r = 0; r < o.runs; r++) {
        const order: ('static' | 'node')[] = r % 2 === 0 ? ['static', 'node'] : ['node', 'static'];
        for (const k of order) {
          const { bytes, seconds } = await pass(agent, base[k], sample, o.concurrency, headers[k]);
          const mibps = bytes / 2 ** 20 / seconds;
          figures[k].mibps.push(mibps);
          log(`run ${r + 1} ${k.padEnd(6)} ${mibps.toFixed(0)} MiB/s`);
        }
      }
      for (const k of ['static', 'node'] as const) {
        const pid = servers[k].pid;
        figures[k].rss.before = rssMiB(pid);
        let peak = figures[k].rss.before;
        let ticks = 0;
        const { bytes } = await pass(agent, base[k], hashes, o.concurrency, headers[k], () => {
          if (++ticks % 16 === 0) peak = Math.max(peak, rssMiB(pid));
        });
        figures[k].rss.peak = Math.max(peak, rssMiB(pid));
        figures[k].rss.after = rssMiB(pid);
        figures[k].memoryPassBytes = bytes;
        log(`memory ${k.padEnd(6)} served ${(bytes / 2 ** 30).toFixed(2)} GiB: RSS ${figures[k].rss.before.toFixed(0)} → peak ${figures[k].rss.peak.toFixed(0)} → ${figures[k].rss.after.toFixed(0)} MiB`);
      }
    } finally {
      agent.destroy();
      await Promise.all([stopServer(servers.static), stopServer(servers.node)]);
    }
    const done = (f: typeof figures.static): ServerFigures => ({ ...f, medianMibps: median(f.mibps) });
    const s = done(figures.static);
    const n = done(figures.node);
    return {
      at: new Date().toISOString(), chunks: o.chunks, chunkBytes: o.chunkBytes, workingSetBytes: o.chunks * o.chunkBytes,
      concurrency: o.concurrency, static: s, node: n, ratio: n.medianMibps / s.medianMibps, writeSeconds,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
