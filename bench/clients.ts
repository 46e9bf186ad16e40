// The clients the benchmark compares on the same shaped links: bunsan's engine exactly as
// `bunsan get` runs it (all four nodes, or one only: the single-node peer), and aria2
// downloading the same number of bytes from the four shaped endpoints as mirrors. The service
// worker in Chromium is the third peer: service-worker-client.ts.
import { spawn } from 'node:child_process';
import { createHash, webcrypto } from 'node:crypto';
import { createReadStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { cliEngine } from '../cli/engine-options.ts';
import type { ApiClient } from '../protocol/api-client.ts';
import type { CryptoLike } from '../protocol/crypto-like.ts';
import { downloadContent } from '../protocol/engine/download.ts';
import { BunsanError } from '../protocol/errors.ts';
import { exitedChildrenCpuSeconds, ownCpuSeconds } from './cpu-time.ts';

const cryptoLike = webcrypto as unknown as CryptoLike;

export interface ClientContext {
  api: ApiClient;
  contentId: string;
  publicKey: CryptoKey;
  /** plaintext bytes of the item, and their SHA-256 */
  plainSize: number;
  plainDigest: string;
  /** ciphertext bytes of the item: what aria2 downloads too */
  wireBytes: number;
  /** SHA-256 of the blob of wireBytes bytes the shaper serves */
  blobDigest: string;
  shaperUrls: string[];
  tmp: string;
}

export interface Measured {
  ok: boolean;
  note?: string;
  /** wall clock (Date.now) when the client started, to line up with the shaper's stats */
  startedAt: number;
  seconds: number;
  ttfbMs: number | null;
  chunkMs: number[];
  hedgedBytes: number | null;
  errors: number;
  /** longest gap in output progress after the first byte; null when the client cannot tell */
  stallMs: number | null;
  /** CPU seconds the client spent (every thread and process of it); null when it cannot be read */
  cpuSeconds?: number | null;
}

/** One download through the engine, with a cold node history, as `bunsan get` would do it. */
export async function runBunsan(ctx: ClientContext, only?: string): Promise<Measured> {
  const startedAt = Date.now();
  const t0 = performance.now();
  const cpu0 = ownCpuSeconds();
  const home = mkdtempSync(join(ctx.tmp, 'home-'));
  const firstAsked = new Map<number, number>();
  const chunkMs: number[] = [];
  let failures = 0;
  let hedgedBytes = 0;
  let first: number | null = null;
  let last = 0;
  let stall = 0;
  const hash = createHash('sha256');
  try {
    const manifest = await ctx.api.manifest(ctx.contentId);
    const exclude = only ? manifest.nodes.map((n) => n.id).filter((id) => id !== only) : [];
    const engine = cliEngine({
      manifest, publicKey: ctx.publicKey, crypto: cryptoLike, api: ctx.api, home, exclude,
      onEvent: (e) => {
        const t = performance.now();
        if (e.type === 'chunk-request' && !firstAsked.has(e.index)) firstAsked.set(e.index, t);
        if (e.type === 'chunk-done') chunkMs.push(t - firstAsked.get(e.index)!);
        if (e.type === 'chunk-failed') failures++;
        if (e.type === 'done') hedgedBytes = e.hedgedBytes;
      },
    });
    try {
      for await (const piece of downloadContent(engine.options)) {
        const t = performance.now();
        if (first === null) first = t;
        else stall = Math.max(stall, t - last);
        last = t;
        hash.update(piece);
      }
    } finally {
      await engine.finish();
    }
    const seconds = (performance.now() - t0) / 1000;
    const ok = hash.digest('hex') === ctx.plainDigest;
    return {
      ok, note: ok ? undefined : 'wrong bytes', startedAt, seconds, ttfbMs: first === null ? null : first - t0, chunkMs, hedgedBytes,
      errors: failures, stallMs: stall, cpuSeconds: ownCpuSeconds() - cpu0,
    };
  } catch (err) {
    const e = err instanceof BunsanError ? `${err.code}: ${err.message}` : String(err);
    return { ok: false, note: e, startedAt, seconds: (performance.now() - t0) / 1000, ttfbMs: null, chunkMs, hedgedBytes, errors: failures + 1, stallMs: stall };
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

/** The aria2 command line: up to 16 connections over the mirrors, 4 per server, 1 MiB pieces at least, fastest mirrors preferred. */
export function aria2Args(dir: string, urls: string[], size: number): string[] {
  return [
    '--no-conf', `--dir=${dir}`, '--out=blob.bin', '--allow-overwrite=true', '--auto-file-renaming=false', '--file-allocation=none',
    '--max-connection-per-server=4', '--split=16', '--min-split-size=1M', '--uri-selector=adaptive',
    '--summary-interval=0', '--console-log-level=warn', '--show-console-readout=false',
    ...urls.map((u) => `${u}/blob/${size}`),
  ];
}

/**
 * aria2 with its own defaults for everything but the split: on a node that hangs it waits out
 * its 60 s `--timeout` before it retries elsewhere. `deadlineMs` only keeps a wedged run from
 * holding up the benchmark: past it aria2 is stopped and the row says so.
 */
export async function runAria2(ctx: ClientContext, deadlineMs = 600_000): Promise<Measured> {
  const dir = mkdtempSync(join(ctx.tmp, 'aria2-'));
  const startedAt = Date.now();
  const t0 = performance.now();
  const cpu0 = exitedChildrenCpuSeconds();
  try {
    const { code, output, killed } = await new Promise<{ code: number; output: string; killed: boolean }>((resolve, reject) => {
      const child = spawn('aria2c', aria2Args(dir, ctx.shaperUrls, ctx.wireBytes), { stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      let killed = false;
      const timer = setTimeout(() => {
        killed = true;
        child.kill('SIGTERM');
      }, deadlineMs);
      child.stdout.on('data', (d: Buffer) => (output += d.toString()));
      child.stderr.on('data', (d: Buffer) => (output += d.toString()));
      child.on('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      child.on('close', (c) => {
        clearTimeout(timer);
        resolve({ code: c ?? -1, output, killed });
      });
    });
    const seconds = (performance.now() - t0) / 1000;
    const cpu1 = exitedChildrenCpuSeconds();
    const cpuSeconds = cpu0 === null || cpu1 === null ? null : cpu1 - cpu0;
    const warnings = output.split('\n').filter((l) => /\[(WARN|ERROR)\]|errorCode=/.test(l)).length;
    if (code !== 0 || killed) {
      const note = killed ? `aria2c stopped after ${Math.round(deadlineMs / 1000)} s` : `aria2c exited ${code}`;
      return { ok: false, note, startedAt, seconds, ttfbMs: null, chunkMs: [], hedgedBytes: null, errors: warnings + 1, stallMs: null };
    }
    const file = join(dir, 'blob.bin');
    const ok = statSync(file).size === ctx.wireBytes && (await fileDigest(file)) === ctx.blobDigest;
    return { ok, note: ok ? undefined : 'wrong bytes', startedAt, seconds, ttfbMs: null, chunkMs: [], hedgedBytes: null, errors: warnings, stallMs: null, cpuSeconds };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function fileDigest(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(path).on('data', (d) => h.update(d)).on('end', () => resolve(h.digest('hex'))).on('error', reject);
  });
}
