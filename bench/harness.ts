// The benchmark: the local stack with four nodes, each behind a shaped link (the shaper's URLs
// are the nodes' advertised URLs, so manifests send clients through the shaper), one item
// uploaded with a replica on every node, then for each profile the same download by bunsan, by
// a single node, by aria2 and (on the equal links) by the app's service worker in Chromium,
// over the same links. Used by `npm run bench` and, with a tiny item, by the smoke test in
// `npm test`.
import { webcrypto } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { freePorts } from '../scripts/stack/ports.ts';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApiClient } from '../protocol/api-client.ts';
import type { CryptoLike } from '../protocol/crypto-like.ts';
import { importPublicKey } from '../protocol/signing.ts';
import { uploadDirect } from '../protocol/upload/direct.ts';
import { ensureCredentials } from '../scripts/stack/provision.ts';
import { startStack } from '../scripts/stack/stack.ts';
import { runAria2, runBunsan, type ClientContext, type Measured } from './clients.ts';
import type { Browser } from 'playwright-core';
import { streamBytes, streamDigest } from './item-bytes.ts';
import { machine, type Machine } from './machine.ts';
import { percentile, type Client, type Row } from './metrics.ts';
import { FAULT_FRACTION, PROFILES, sumOfCaps, type Profile } from './profiles.ts';
import { CHROMIUM, launchChromium, openServiceWorkerPage } from './service-worker-client.ts';
import { BLOB } from './shaper.ts';
import { ShaperClient } from './shaper-client.ts';

const cryptoLike = webcrypto as unknown as CryptoLike;
const ITEM_SEED = 'bunsan-bench-item';
const NODES = 4;

export interface BenchOptions {
  /** plaintext bytes of the item */
  size: number;
  /** chunk size of the item (default 1 MiB, the upload default) */
  chunkSize?: number;
  profiles?: Profile[];
  /** the peers that run beside bunsan in a profile (default: defaultPeers) */
  peers?: (p: Profile) => Peer[];
  log?: (line: string) => void;
}

export type Peer = Exclude<Client, 'bunsan'>;

/** Single-node and aria2 in every profile; the service worker on the equal links, as the issue asks. */
export const defaultPeers = (p: Profile): Peer[] =>
  p.name === 'equal' ? ['single-node', 'aria2', 'service worker (Chromium)'] : ['single-node', 'aria2'];

export interface BenchReport {
  at: string;
  machine: Machine;
  size: number;
  chunkSize: number;
  chunks: number;
  wireBytes: number;
  replicas: number;
  uploadSeconds: number;
  profiles: Array<{ name: string; title: string; sumOfCaps: number; idealSeconds: number }>;
  rows: Row[];
  /** peers that were not run, and why */
  skipped: string[];
  /** 1-minute load average when the last download ended */
  loadAtEnd: number;
}


export async function runBench(o: BenchOptions): Promise<BenchReport> {
  const log = o.log ?? (() => {});
  const chunkSize = o.chunkSize ?? 1 << 20;
  const profiles = o.profiles ?? PROFILES;
  const m = machine(CHROMIUM);
  const skipped: string[] = [];
  const peersOf = o.peers ?? defaultPeers;
  const wanted = new Set(profiles.flatMap(peersOf));
  if (wanted.has('aria2') && !m.aria2) skipped.push('aria2: aria2c not found (apt-get install aria2)');
  if (wanted.has('service worker (Chromium)') && !m.chromium) skipped.push(`service worker (Chromium): no Chromium at ${CHROMIUM} (apt-get install chromium)`);
  const runs = (p: Profile, peer: Peer) => peersOf(p).includes(peer) && (peer !== 'aria2' || !!m.aria2) && (peer !== 'service worker (Chromium)' || !!m.chromium);
  let browser: Browser | null = null;
  const tmp = mkdtempSync(join(tmpdir(), 'bunsan-bench-'));
  const port = await freePorts(1 + 2 * NODES);
  const shaper = await ShaperClient.start(
    Array.from({ length: NODES }, (_, i) => ({ port: port + 1 + NODES + i, upstream: `http://127.0.0.1:${port + 1 + i}` })),
  );
  const stack = await startStack({ home: join(tmp, 'stack'), port, nodes: NODES, publicUrls: shaper.urls }).catch(async (e) => {
    await shaper.stop();
    throw e;
  });
  try {
    const creds = await ensureCredentials(stack);
    const api = createApiClient({ portal: creds.portal, token: creds.token, fetch: (u, i) => fetch(u, i) });
    await shaper.shape(null);
    log(`uploading ${(o.size / 2 ** 20).toFixed(1)} MiB in ${chunkSize / 1024} KiB chunks, a replica on each of ${NODES} nodes (links open)`);
    const up0 = performance.now();
    const session = await api.openUpload({ name: 'bench.bin', size: o.size, replicas: NODES, chunking: { mode: 'regular', size: chunkSize } });
    await uploadDirect({ api, session, crypto: cryptoLike, fetch: (u, i) => fetch(u, i), read: async (off, len) => streamBytes(ITEM_SEED, off, len) });
    await api.commit(session.id);
    const uploadSeconds = (performance.now() - up0) / 1000;
    const manifest = await api.manifest(session.id);
    const wireBytes = manifest.chunks.reduce((n, c) => n + c.sealedLength, 0);
    const ctx: ClientContext = {
      api, contentId: session.id, publicKey: await importPublicKey(cryptoLike, (await api.keys()).signingPublicKey),
      plainSize: o.size, plainDigest: streamDigest(ITEM_SEED, o.size), wireBytes, blobDigest: streamDigest(BLOB.seed, wireBytes), shaperUrls: shaper.urls, tmp,
    };
    log(`uploaded in ${uploadSeconds.toFixed(1)} s; ${manifest.chunks.length} chunks, ${wireBytes} bytes on the wire`);

    const rows: Row[] = [];
    const singleByLink = new Map<string, Row>();
    for (const p of profiles) {
      await shaper.shape(p.links);
      const run = async (client: Client, go: () => Promise<Measured>): Promise<Row> => {
        await shaper.begin(p.fault && { ...p.fault, bytes: Math.floor(FAULT_FRACTION * wireBytes) });
        const res = await go();
        const wire = await shaper.stats();
        const row = toRow(p, client, res, wire, wireBytes);
        rows.push(row);
        const took = `${row.seconds.toFixed(2)} s, ${(row.fractionOfCaps * 100).toFixed(1)} % of caps, longest stall ${Math.round(row.stallMs)} ms`;
        log(`${p.name.padEnd(10)} ${client.padEnd(25)} ${row.ok ? took : `FAILED ${row.note}`}`);
        await new Promise((r) => setTimeout(r, 300)); // let the links drain
        return row;
      };
      await run('bunsan', () => runBunsan(ctx));
      if (runs(p, 'single-node')) {
        // The single-node peer uses n1, every profile's fastest link; profiles whose n1 link is
        // the same reuse its measurement rather than spend another minute on it.
        const key = JSON.stringify(p.links[0]);
        const seen = singleByLink.get(key);
        if (seen) rows.push({ ...seen, profile: p.name, reusedFrom: seen.profile });
        else singleByLink.set(key, await run('single-node', () => runBunsan(ctx, 'n1')));
      }
      if (runs(p, 'aria2')) await run('aria2', () => runAria2(ctx));
      if (runs(p, 'service worker (Chromium)')) {
        // The app is opened and its worker in control before the run's clock and counters
        // start: what is measured is the content's download, as for the other clients.
        browser ??= await launchChromium();
        const page = await openServiceWorkerPage(browser, stack.portalUrl);
        try {
          await run('service worker (Chromium)', () => page.download(ctx));
        } finally {
          await page.close();
        }
      }
    }
    return {
      at: new Date().toISOString(), machine: m, size: o.size, chunkSize, chunks: manifest.chunks.length, wireBytes, replicas: NODES, uploadSeconds,
      profiles: profiles.map((p) => ({ name: p.name, title: p.title, sumOfCaps: sumOfCaps(p), idealSeconds: wireBytes / sumOfCaps(p) })),
      rows, skipped, loadAtEnd: Math.round(loadavg()[0] * 100) / 100,
    };
  } finally {
    await (browser as Browser | null)?.close();
    await stack.stop();
    await shaper.stop();
    rmSync(tmp, { recursive: true, force: true });
  }
}

function toRow(p: Profile, client: Row['client'], res: Measured, wire: Awaited<ReturnType<ShaperClient['stats']>>, wireBytes: number): Row {
  const wireTtfb = wire.firstByteAt === null ? null : wire.firstByteAt - res.startedAt;
  return {
    profile: p.name, client, ok: res.ok, note: res.note, seconds: res.seconds,
    fractionOfCaps: res.ok ? wireBytes / res.seconds / sumOfCaps(p) : 0,
    ttfbMs: res.ttfbMs ?? wireTtfb,
    wireTtfbMs: wireTtfb,
    p50ChunkMs: percentile(res.chunkMs, 50), p99ChunkMs: percentile(res.chunkMs, 99),
    hedgedBytes: res.hedgedBytes, errors: res.errors,
    stallMs: res.stallMs ?? wire.maxGapMs,
    cpuSeconds: res.cpuSeconds ?? null,
    faultAtMs: wire.faultAt === null ? null : wire.faultAt - res.startedAt,
    bytesPerNode: wire.bytes,
    idleMsPerNode: wire.idleMs,
    lostWaitingPerNode: wire.lostWaiting, lostIdlePerNode: wire.lostIdle,
    wireSpanMs: wire.firstByteAt === null || wire.lastByteAt === null ? null : wire.lastByteAt - wire.firstByteAt,
  };
}
