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
import { safeSink, type EngineEvent } from './events.ts';
import type { FetchLike } from './fetch-chunk.ts';
import type { NodeStatsTable } from './node-stats.ts';
import { defaultRetryPolicy, type RetryPolicy } from './retry-policy.ts';
import { Scheduler, type Sleep } from './scheduler.ts';

export interface EngineOptions {
  /** already schema-validated */
  manifest: Manifest;
  /** the management tier's Ed25519 key: stamps are verified before anything else */
  publicKey: CryptoKey;
  crypto: CryptoLike;
  fetch: FetchLike;
  /** ms clock */
  now: () => number;
  /** waits used for back-off; defaults to setTimeout. Tests pass a fake one with a fake clock. */
  sleep?: Sleep;
  /** total requests in flight (default 8) */
  concurrency?: number;
  /** requests in flight per node (default 4) */
  perNode?: number;
  /** chunks fetched or buffered ahead of the consumer (default 16): bounds memory to window × chunk */
  window?: number;
  /** plaintext byte range, inclusive end */
  range?: { start: number; end: number };
  signal?: AbortSignal;
  /** node ids the user excluded */
  exclude?: string[];
  onEvent?: (e: EngineEvent) => void;
  /** back-off and retries; defaults from defaultRetryPolicy() */
  retry?: Partial<RetryPolicy>;
  /** replica choice; issue #4 replaces it with hedging and richer ranking */
  choose?: ChooseNode;
  /** node history to share across downloads (the service worker keeps one) */
  stats?: NodeStatsTable;
}

export const ENGINE_DEFAULTS = { concurrency: 8, perNode: 4, window: 16 } as const;

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

  const verified = await verifyStamps(crypto, opts.publicKey, m.stamps, {
    contentId: m.id, version: m.version, hashes: m.chunks.map((c) => c.hash), size: m.size,
  });
  const keyCtx: KeyContext = { contentId: m.id, version: m.version, stampDigest: verified.uploadDigest };
  const key = await deriveContentKey(crypto, fromBase64Url(m.key.secret), keyCtx);
  signal?.throwIfAborted();

  const range = checkRange(opts.range, m.size);
  if (!range) {
    emit({ type: 'start', first: 0, last: -1, bytes: 0 });
    emit({ type: 'done', bytes: 0, ms: opts.now() - started });
    return;
  }
  const first = spanAt(m.chunks, range.start);
  const last = spanAt(m.chunks, range.end);
  const excluded = new Set(opts.exclude ?? []);
  const nodes = new Map(m.nodes.filter((n) => !excluded.has(n.id)).map((n) => [n.id, n.url]));

  const sched = new Scheduler({
    chunks: m.chunks, first, last, nodes,
    source: { crypto, fetch: opts.fetch, key, keyCtx, token: m.tokens.get },
    now: opts.now,
    sleep: opts.sleep ?? defaultSleep,
    concurrency: positive(opts.concurrency, ENGINE_DEFAULTS.concurrency, 'concurrency'),
    perNode: positive(opts.perNode, ENGINE_DEFAULTS.perNode, 'perNode'),
    window: positive(opts.window, ENGINE_DEFAULTS.window, 'window'),
    policy: { ...defaultRetryPolicy(), ...opts.retry },
    choose: opts.choose ?? chooseNode,
    stats: opts.stats ?? new Map(),
    emit,
  });
  const onAbort = () => sched.close(signal!.reason);
  signal?.addEventListener('abort', onAbort, { once: true });
  emit({ type: 'start', first, last, bytes: range.end - range.start + 1 });
  let sent = 0;
  try {
    for (let i = first; i <= last; i++) {
      const plain = await sched.take(i);
      const c = m.chunks[i];
      const from = i === first ? range.start - c.offset : 0;
      const to = i === last ? range.end - c.offset + 1 : c.length;
      const out = from === 0 && to === plain.length ? plain : plain.subarray(from, to);
      sent += out.length;
      yield out;
    }
    emit({ type: 'done', bytes: sent, ms: opts.now() - started });
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

function positive(v: number | undefined, dflt: number, name: string): number {
  if (v === undefined) return dflt;
  if (!Number.isSafeInteger(v) || v < 1) throw new BunsanError('bad_request', `${name} must be a positive integer`);
  return v;
}
