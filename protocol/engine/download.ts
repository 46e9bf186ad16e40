// downloadContent: the one download engine shared by the CLI, the service worker and the in-page
// player. Verifies the manifest's stamps, derives the content key, then streams plaintext in
// order from the head (or from a byte range) while the scheduler pulls chunks from several
// nodes at once.
import { fromBase64Url } from '../bytes.ts';
import { deriveContentKey, type KeyContext } from '../chunk-crypto.ts';
import type { CryptoLike } from '../crypto-like.ts';
import { BunsanError } from '../errors.ts';
import type { Manifest } from '../manifest.ts';
import { spanAt } from '../split.ts';
import { verifyStamps } from '../stamps.ts';
import { chooseNode, type ChooseNode } from './choose-node.ts';
import { deviceBudget, type DeviceHint } from './estimate.ts';
import { safeSink, type ChunkReport, type EngineEvent } from './events.ts';
import type { FetchLike } from './fetch-chunk.ts';
import type { NodeStatsTable } from './node-stats.ts';
import { PROBE_DEFAULTS, probeNodes, type ProbeOptions } from './probe.ts';
import { defaultRetryPolicy, type RetryPolicy } from './retry-policy.ts';
import { Scheduler, type Refreshed, type Sleep } from './scheduler.ts';

export interface EngineOptions {
  /** already schema-validated */
  manifest: Manifest;
  /** the management tier's Ed25519 key: stamps are verified before anything else */
  publicKey: CryptoKey;
  crypto: CryptoLike;
  fetch: FetchLike;
  /** ms clock */
  now: () => number;
  /** waits used for back-off, deadlines and stalls; defaults to setTimeout. Tests pass a fake one with a fake clock. */
  sleep?: Sleep;
  /** total requests in flight; when absent it follows the measured links (within the device budget) */
  concurrency?: number;
  /** requests in flight per node; when absent each node gets what its bandwidth-delay product needs */
  perNode?: number;
  /** chunks fetched or buffered ahead of the consumer; when absent about a second of throughput, 16 at least, within the device budget */
  window?: number;
  /** what the device can afford: fewer requests and a smaller window on a weak phone */
  device?: DeviceHint;
  /** plaintext byte range, inclusive end */
  range?: { start: number; end: number };
  signal?: AbortSignal;
  /** node ids the user excluded: never asked */
  exclude?: string[];
  /** node ids the user prefers: chosen unless another is expected to be more than twice as fast */
  prefer?: string[];
  /** the client's region, matched against the manifest's node directory for nodes never measured */
  region?: string;
  /** [0, 1) source for the tie-break between equal nodes (default Math.random) */
  random?: () => number;
  /** a timed test download from nodes with no recent history before choosing (default off) */
  probe?: boolean | ProbeOptions;
  /** ask a second replica for late chunks (default true; with device.saveData only the chunk the reader waits for) */
  hedging?: boolean;
  onEvent?: (e: EngineEvent) => void;
  /** a node served a chunk that fails verification: the adapter tells the portal */
  onReport?: (r: ChunkReport) => unknown;
  /** back-off, retries, stall and hedge timings; defaults from defaultRetryPolicy() */
  retry?: Partial<RetryPolicy>;
  /** replica choice (default chooseNode: earliest expected finish) */
  choose?: ChooseNode;
  /** node history to share across downloads (the service worker keeps one, the CLI persists one) */
  stats?: NodeStatsTable;
  /**
   * The content's manifest as the portal gives it now. Asked for when every node listed for a
   * chunk has failed it: copies move (a drain, a wandering content) while a manifest lists
   * holders as they were. Without it such a chunk is unavailable.
   */
  refresh?: () => Promise<Manifest>;
}

export const defaultSleep: Sleep = (ms, signal) => new Promise<void>((resolve) => {
  if (signal?.aborted) return resolve();
  const t = setTimeout(done, Math.max(0, ms));
  signal?.addEventListener('abort', done, { once: true });
  function done() {
    clearTimeout(t);
    signal?.removeEventListener('abort', done);
    resolve();
  }
});

export async function* downloadContent(opts: EngineOptions): AsyncGenerator<Uint8Array, void, undefined> {
  const { manifest: m, crypto, signal } = opts;
  const emit = safeSink(opts.onEvent);
  const started = opts.now();
  signal?.throwIfAborted();
  const limits = {
    concurrency: positive(opts.concurrency, 'concurrency'), perNode: positive(opts.perNode, 'perNode'), window: positive(opts.window, 'window'),
  };

  const verified = await verifyStamps(crypto, opts.publicKey, m.stamps, {
    contentId: m.id, version: m.version, hashes: m.chunks.map((c) => c.hash), size: m.size,
  });
  const keyCtx: KeyContext = { contentId: m.id, version: m.version, stampDigest: verified.uploadDigest };
  const key = await deriveContentKey(crypto, fromBase64Url(m.key.secret), keyCtx);
  signal?.throwIfAborted();

  const range = checkRange(opts.range, m.size);
  const totals = { fetchedBytes: 0, hedges: 0, hedgedBytes: 0, failures: 0, reports: 0, refreshes: 0 };
  if (!range) {
    emit({ type: 'start', first: 0, last: -1, bytes: 0 });
    emit({ type: 'done', bytes: 0, ms: opts.now() - started, ...totals });
    return;
  }
  const first = spanAt(m.chunks, range.start);
  const last = spanAt(m.chunks, range.end);
  const excluded = new Set(opts.exclude ?? []);
  const usable = m.nodes.filter((n) => !excluded.has(n.id));
  const nodes = new Map(usable.map((n) => [n.id, n.url]));
  const stats = opts.stats ?? new Map();
  const policy = { ...defaultRetryPolicy(), ...opts.retry };
  const sleep = opts.sleep ?? defaultSleep;

  const hintsOf = (list: Manifest['nodes']) => new Map(list.map((n) => [n.id, { region: n.region, grade: n.grade, faults: n.faults }]));
  const refresh = opts.refresh && (async (): Promise<Refreshed> => {
    const f = await opts.refresh!();
    // Only where the chunks are may change: the same content, the same sealed chunks (whose
    // hashes the stamps verified above bind), so nothing of the fresh manifest needs trusting.
    const same = f.id === m.id && f.version === m.version && f.stamps.upload === m.stamps.upload && f.chunks.length === m.chunks.length
      && f.chunks.every((c, i) => c.hash === m.chunks[i].hash && c.sealedLength === m.chunks[i].sealedLength && c.offset === m.chunks[i].offset);
    if (!same) throw new BunsanError('conflict', 'the content changed since the download began');
    const fresh = f.nodes.filter((n) => !excluded.has(n.id));
    return { chunks: f.chunks, nodes: new Map(fresh.map((n) => [n.id, n.url])), hints: hintsOf(fresh), token: f.tokens.get };
  });

  const sched = new Scheduler({
    chunks: m.chunks, first, last, nodes, refresh,
    hints: hintsOf(usable),
    source: { crypto, fetch: opts.fetch, key, keyCtx, token: m.tokens.get },
    now: opts.now, sleep, ...limits,
    budget: deviceBudget(opts.device),
    policy,
    hedging: opts.hedging === false ? 'off' : opts.device?.saveData ? 'head' : 'all',
    choose: opts.choose ?? chooseNode,
    stats, emit,
    prefer: new Set(opts.prefer ?? []),
    region: opts.region,
    random: opts.random ?? Math.random,
    report: opts.onReport && ((r) => report(opts.onReport!, r)),
  });
  const onAbort = () => sched.close(signal!.reason);
  signal?.addEventListener('abort', onAbort, { once: true });
  let sent = 0;
  try {
    if (opts.probe) {
      const o = opts.probe === true ? {} : opts.probe;
      const probing = probeNodes({ nodes, stats, fetch: opts.fetch, now: opts.now, signal: sched.signal, policy, emit, token: m.tokens.get }, o);
      const wait = o.waitMs ?? PROBE_DEFAULTS.waitMs;
      if (wait > 0) await Promise.race([probing, sleep(wait, sched.signal)]);
    }
    emit({ type: 'start', first, last, bytes: range.end - range.start + 1 });
    for (let i = first; i <= last; i++) {
      const plain = await sched.take(i);
      const c = m.chunks[i];
      const from = i === first ? range.start - c.offset : 0;
      const to = i === last ? range.end - c.offset + 1 : c.length;
      const out = from === 0 && to === plain.length ? plain : plain.subarray(from, to);
      sent += out.length;
      yield out;
    }
    emit({ type: 'done', bytes: sent, ms: opts.now() - started, ...sched.totals });
  } finally {
    // Normal end, a thrown error or the consumer's return(): nothing may stay in flight.
    signal?.removeEventListener('abort', onAbort);
    sched.close(signal?.aborted ? signal.reason : undefined);
  }
}

/** The range to send, or null for empty content. Throws range_not_satisfiable when out of bounds. */
function checkRange(range: EngineOptions['range'], size: number): { start: number; end: number } | null {
  if (!range) return size === 0 ? null : { start: 0, end: size - 1 };
  const { start, end } = range;
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start || end >= size) {
    throw new BunsanError('range_not_satisfiable', `range ${start}-${end} outside 0-${size - 1}`, { size });
  }
  return range;
}

/** The adapter's reporting must neither slow the download nor break it. */
function report(onReport: (r: ChunkReport) => unknown, r: ChunkReport): void {
  try {
    const p = onReport(r) as Promise<unknown> | undefined;
    if (p && typeof p.then === 'function') p.then(undefined, () => {});
  } catch {
    // a report is a courtesy to the operator
  }
}

function positive(v: number | undefined, name: string): number | undefined {
  if (v === undefined) return undefined;
  if (!Number.isSafeInteger(v) || v < 1) throw new BunsanError('bad_request', `${name} must be a positive integer`);
  return v;
}
