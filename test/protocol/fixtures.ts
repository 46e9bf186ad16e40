// Test fixtures built with the real protocol functions: signing keys, sealed content with a
// signed manifest, fake nodes behind an in-memory fetch, and a fake clock. Shared by the
// protocol unit tests and reusable by system tests.
import { webcrypto } from 'node:crypto';
import { concatBytes } from '../../protocol/bytes.ts';
import {
  BunsanError, GetToken, Manifest, MANIFEST_FORMAT, STAMP_HEADER, bearer, deriveContentKey, expiresIn,
  generateSigningKeyPair, hashListRoot, importPrivateKey, importPublicKey, issueToken, newContentId, placeKey,
  chunkPlan, randomBytes, sealChunk, sha256Hex, signStamp, stampDigest, toBase64Url, toHex, verifyToken,
  type Chunking, type CryptoLike, type KeyContext, type NodeInfo, type SigningKeyPair,
} from '../../protocol/index.ts';

/** Node's WebCrypto as the protocol's injected crypto. */
export const cryptoLike = webcrypto as unknown as CryptoLike;

export interface Signer { pair: SigningKeyPair; privateKey: CryptoKey; publicKey: CryptoKey }

export async function makeSigner(): Promise<Signer> {
  const pair = await generateSigningKeyPair(cryptoLike);
  return {
    pair,
    privateKey: await importPrivateKey(cryptoLike, pair.privateKey),
    publicKey: await importPublicKey(cryptoLike, pair.publicKey),
  };
}

/** Deterministic filler so a failing comparison is reproducible (xorshift32). */
export function pattern(size: number, seed = 1): Uint8Array {
  const out = new Uint8Array(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

export interface ContentOptions {
  size?: number;
  chunking?: Chunking;
  /** node ids (default n1, n2, n3) */
  nodes?: string[];
  replicas?: number;
  signer?: Signer;
  /** ms; the stamps' and tokens' clock */
  now?: number;
  plain?: Uint8Array;
}

export interface ContentFixture {
  manifest: Manifest;
  plain: Uint8Array;
  /** sealed chunks by hash, what nodes store */
  sealed: Map<string, Uint8Array>;
  signer: Signer;
  secret: Uint8Array;
  key: CryptoKey;
  ctx: KeyContext;
  uploadStamp: string;
  commitStamp: string;
}

export const CHUNK = 64 * 1024; // the smallest legal chunk keeps tests fast

export async function createContent(o: ContentOptions = {}): Promise<ContentFixture> {
  const plain = o.plain ?? pattern(o.size ?? CHUNK * 5 + 1234);
  const size = plain.length;
  const chunking: Chunking = o.chunking ?? { mode: 'regular', size: CHUNK };
  const nodeIds = o.nodes ?? ['n1', 'n2', 'n3'];
  const replicas = o.replicas ?? 2;
  const signer = o.signer ?? (await makeSigner());
  const now = o.now ?? 1_700_000_000_000;
  const id = newContentId(cryptoLike);
  const version = 1;

  const uploadStamp = await signStamp(cryptoLike, signer.privateKey, {
    t: 'upload-stamp', c: id, v: version, at: now, nonce: toHex(randomBytes(cryptoLike, 16)),
  });
  const digest = await stampDigest(cryptoLike, uploadStamp);
  const secret = randomBytes(cryptoLike, 32);
  const ctx: KeyContext = { contentId: id, version, stampDigest: digest };
  const key = await deriveContentKey(cryptoLike, secret, ctx);

  const nodes: NodeInfo[] = nodeIds.map((n) => ({ id: n, url: nodeUrl(n), region: 'test', grade: 1 }));
  const sealed = new Map<string, Uint8Array>();
  const chunks: Manifest['chunks'] = [];
  for await (const span of chunkPlan(cryptoLike, size, chunking).spans()) {
    const box = await sealChunk(cryptoLike, key, ctx, span.index, plain.subarray(span.offset, span.offset + span.length));
    const hash = await sha256Hex(cryptoLike, box);
    sealed.set(hash, box);
    const placed = placeKey(hash, nodeIds.map((n) => ({ id: n, weight: 1 })), replicas);
    chunks.push({ ...span, sealedLength: box.length, hash, nodes: placed });
  }
  const hashes = chunks.map((c) => c.hash);
  const commitStamp = await signStamp(cryptoLike, signer.privateKey, {
    t: 'commit-stamp', c: id, v: version, at: now + 1, upload: digest,
    root: await hashListRoot(cryptoLike, hashes), chunks: hashes.length, size,
  });
  const token = await issueToken(cryptoLike, signer.privateKey, { t: 'get', c: id, exp: expiresIn(now, 3600) });
  const manifest = Manifest.parse({
    format: MANIFEST_FORMAT, id, version, name: 'fixture.bin', type: 'application/octet-stream', size,
    createdAt: now, committedAt: now + 1, chunking, chunks, nodes,
    tokens: { get: token }, stamps: { upload: uploadStamp, commit: commitStamp },
    key: { secret: toBase64Url(secret) },
  });
  return { manifest, plain, sealed, signer, secret, key, ctx, uploadStamp, commitStamp };
}

export const nodeUrl = (id: string) => `http://${id}.node.test`;

/** How a fake node answers one request. */
export type Behaviour =
  | 'ok'
  | 'network' // fetch rejects
  | 'corrupt' // one ciphertext byte flipped
  | 'wrong-stamp' // another upload stamp's digest in the header
  | 'truncate' // body cut short
  | 'cut' // half the body, then the connection breaks
  | 'no-range' // ignores Range headers: always the whole chunk
  | { status: number };

export interface FakeRequest {
  seq: number;
  node: string;
  hash: string;
  /** chunk index in the fixture's manifest, -1 if unknown */
  index: number;
  signal?: AbortSignal;
  state: 'pending' | 'answered' | 'aborted' | 'failed';
  /** body bytes handed to the client so far (streamed bodies only) */
  sent: number;
  /** the first byte asked for with a Range header */
  range?: number;
  /** the `?t=` query parameter, if any */
  query: string | null;
}

export interface FakeNetworkOptions {
  /** default 'ok'; consulted per request, after the node's own setting */
  behave?: (r: FakeRequest) => Behaviour | undefined;
  /** resolves when the node should answer (fake latency, real time); default: next macrotask */
  delay?: (r: FakeRequest) => Promise<void> | undefined;
  /** now for token checks */
  now?: () => number;
  /**
   * Virtual time: latency and body pace are then virtual ms on this clock, and the network's own
   * work is tracked so the clock never runs ahead of it.
   */
  clock?: VirtualClock;
  /** virtual ms before the answer (default 1); Infinity: the node never answers */
  latency?: (r: FakeRequest) => number;
  /** virtual ms over which the body trickles out in 8 pieces (default 0: all at once); Infinity: it stops after the first piece */
  bodyMs?: (r: FakeRequest) => number;
}

/** In-memory nodes speaking enough of the node protocol for the engine: GET /v1/chunks/{hash}, GET /v1/probe. */
export class FakeNetwork {
  readonly requests: FakeRequest[] = [];
  /** probe requests, kept apart so chunk request counts stay exact */
  readonly probes: FakeRequest[] = [];
  readonly nodeBehaviour = new Map<string, Behaviour>();
  inFlight = 0;
  maxInFlight = 0;
  readonly perNode = new Map<string, number>();
  readonly maxPerNode = new Map<string, number>();
  private readonly index = new Map<string, number>();
  private readonly hosts = new Map<string, string>();

  constructor(readonly fx: ContentFixture, readonly opts: FakeNetworkOptions = {}) {
    fx.manifest.chunks.forEach((c) => this.index.set(c.hash, c.index));
    for (const n of fx.manifest.nodes) this.hosts.set(new URL(n.url).host, n.id);
  }

  /** Set a node's behaviour for every request from now on. */
  set(node: string, b: Behaviour): this {
    this.nodeBehaviour.set(node, b);
    return this;
  }

  get aborted(): number {
    return this.requests.filter((r) => r.state === 'aborted').length;
  }

  requestsFor(index: number): FakeRequest[] {
    return this.requests.filter((r) => r.index === index);
  }

  readonly fetch = async (input: string, init?: RequestInit): Promise<Response> => {
    const url = new URL(input);
    const node = this.hosts.get(url.host);
    const m = /^\/v1\/chunks\/([0-9a-f]{64})$/.exec(url.pathname);
    if (!node) throw new TypeError(`fetch failed: unknown host ${url.host}`);
    const hash = m?.[1] ?? '';
    const probe = url.pathname === '/v1/probe';
    const list = probe ? this.probes : this.requests;
    const r: FakeRequest = {
      seq: list.length, node, hash, index: this.index.get(hash) ?? -1,
      signal: init?.signal ?? undefined, state: 'pending', sent: 0, query: url.searchParams.get('t'),
    };
    list.push(r);
    if (!probe) this.track(node, +1);
    try {
      await this.wait(r);
      const res = await this.work(probe ? this.probeAnswer(r, Number(url.searchParams.get('bytes'))) : this.answer(r, init));
      r.state = 'answered';
      return res;
    } catch (err) {
      if (r.state === 'pending') r.state = 'failed';
      throw err;
    } finally {
      if (!probe) this.track(node, -1);
    }
  };

  private work<T>(p: Promise<T>): Promise<T> {
    return this.opts.clock ? this.opts.clock.track(p) : p;
  }

  private track(node: string, d: number): void {
    this.inFlight += d;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    const n = (this.perNode.get(node) ?? 0) + d;
    this.perNode.set(node, n);
    this.maxPerNode.set(node, Math.max(this.maxPerNode.get(node) ?? 0, n));
  }

  private wait(r: FakeRequest): Promise<void> {
    const signal = r.signal;
    const { clock } = this.opts;
    const custom = this.opts.delay?.(r);
    const delay = custom ? (clock ? clock.track(custom) : custom)
      : clock ? clock.after(this.opts.latency?.(r) ?? 1, signal)
      : new Promise<void>((res) => setTimeout(res, 0));
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        r.state = 'aborted';
        reject(signal!.reason ?? new DOMException('aborted', 'AbortError'));
      };
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      delay.then(() => {
        signal?.removeEventListener('abort', onAbort);
        if (signal?.aborted) return onAbort();
        resolve();
      }, reject);
    });
  }

  private async answer(r: FakeRequest, init?: RequestInit): Promise<Response> {
    const range = /^bytes=(\d+)-$/.exec(new Headers(init?.headers).get('range') ?? '');
    r.range = range ? Number(range[1]) : undefined;
    const b = this.nodeBehaviour.get(r.node) ?? this.opts.behave?.(r) ?? 'ok';
    if (b === 'network') throw new TypeError('fetch failed: connection refused');
    if (typeof b === 'object') return json(b.status, { error: { code: 'internal', message: 'fake failure' } });
    // As a real node: the header, or `?t=` (what clients send, so browsers skip a preflight).
    const header = new Headers(init?.headers).get('authorization');
    const token = header !== null ? bearer(header) : r.query;
    try {
      const t = await verifyToken(cryptoLike, this.fx.signer.publicKey, token, GetToken, this.opts.now?.() ?? this.fx.manifest.createdAt);
      if (t.c !== this.fx.manifest.id) throw new BunsanError('forbidden', 'token for another content');
    } catch (e) {
      const err = e as BunsanError;
      return json(err.status ?? 401, err.toEnvelope?.() ?? {});
    }
    const box = this.fx.sealed.get(r.hash);
    if (!box) return json(404, { error: { code: 'chunk_not_found', message: 'no such chunk' } });
    let body = box.slice();
    if (b === 'corrupt') body[body.length >> 1] ^= 0x01;
    if (b === 'truncate') body = body.subarray(0, body.length - 1);
    const stamp = b === 'wrong-stamp' ? 'f'.repeat(64) : this.fx.ctx.stampDigest;
    const headers: Record<string, string> = { 'content-type': 'application/octet-stream', [STAMP_HEADER]: stamp };
    let status = 200;
    if (range && b !== 'no-range') {
      const from = Number(range[1]);
      headers['content-range'] = `bytes ${from}-${body.length - 1}/${body.length}`;
      body = body.subarray(from);
      status = 206;
    }
    headers['content-length'] = String(body.length);
    return new Response(b === 'cut' ? cutAfterHalf(r, body) : this.body(r, body), { status, headers });
  }

  private async probeAnswer(r: FakeRequest, bytes: number): Promise<Response> {
    const b = this.nodeBehaviour.get(r.node) ?? this.opts.behave?.(r) ?? 'ok';
    if (b === 'network') throw new TypeError('fetch failed: connection refused');
    if (typeof b === 'object') return json(b.status, { error: { code: 'internal', message: 'fake failure' } });
    return new Response(this.body(r, new Uint8Array(bytes)), { status: 200, headers: { 'content-length': String(bytes) } });
  }

  /** The whole body at once, or with a clock and bodyMs, in 8 pieces paced in virtual time. */
  private body(r: FakeRequest, bytes: Uint8Array): BodyInit {
    const { clock } = this.opts;
    const ms = this.opts.bodyMs?.(r) ?? 0;
    if (!clock || ms === 0) {
      r.sent = bytes.length;
      return bytes as BodyInit;
    }
    const pieces = 8;
    const size = Math.ceil(bytes.length / pieces);
    let at = 0;
    const signal = r.signal;
    return new ReadableStream<Uint8Array>({
      pull: async (ctrl) => {
        if (at > 0) await clock.after(ms / pieces, signal);
        if (signal?.aborted) {
          r.state = 'aborted';
          return ctrl.error(signal.reason);
        }
        if (at >= bytes.length) return ctrl.close();
        const piece = bytes.slice(at, at + size);
        at += piece.length;
        r.sent += piece.length;
        ctrl.enqueue(piece);
      },
    }, { highWaterMark: 0 });
  }
}

/** Half the body, then an error as when the connection is reset. */
function cutAfterHalf(r: FakeRequest, bytes: Uint8Array): ReadableStream<Uint8Array> {
  const half = bytes.subarray(0, bytes.length >> 1);
  let sent = false;
  return new ReadableStream<Uint8Array>({
    pull(ctrl) {
      if (sent) return ctrl.error(new TypeError('terminated'));
      sent = true;
      r.sent = half.length;
      ctrl.enqueue(half.slice());
    },
  }, { highWaterMark: 0 });
}

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
}

/** A promise you resolve from outside: fake latency that a test releases when it wants. */
export function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((r) => (open = r));
  return { promise, open };
}

/**
 * Virtual time: `now` reads it, `sleep` jumps it forward (after letting pending I/O settle) and
 * records every wait, so back-off is tested without real delays.
 */
export class FakeClock {
  t: number;
  readonly sleeps: number[] = [];
  constructor(start = 1_700_000_000_000) {
    this.t = start;
  }
  readonly now = () => this.t;
  readonly sleep = async (ms: number, signal?: AbortSignal): Promise<void> => {
    this.sleeps.push(ms);
    const target = this.t + ms;
    await new Promise((r) => setTimeout(r, 0));
    if (signal?.aborted) return;
    this.t = Math.max(this.t, target);
  };
}

/**
 * Virtual time driven like a discrete-event simulation: timers (the engine's sleeps, fake
 * latencies) fire in order, and the clock only moves on when every piece of real work it was
 * told about (fake network processing, crypto through trackCrypto) has settled. So a healthy
 * node's instant answer is always seen before a deadline that comes after it in virtual time.
 */
export class VirtualClock {
  t: number;
  /** every wait the engine asked for through `sleep` */
  readonly sleeps: number[] = [];
  private timers: Array<{ at: number; seq: number; fire: () => void }> = [];
  private seq = 0;
  private pending = 0;
  constructor(start = 1_700_000_000_000) {
    this.t = start;
  }
  readonly now = () => this.t;
  readonly sleep = (ms: number, signal?: AbortSignal): Promise<void> => {
    this.sleeps.push(ms);
    return this.after(ms, signal);
  };

  /** Resolves when virtual time has moved `ms` on (never for Infinity), or at once when `signal` aborts. */
  after(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      if (signal?.aborted) return resolve();
      const onAbort = () => {
        this.timers = this.timers.filter((x) => x !== timer);
        resolve();
      };
      const timer = {
        at: this.t + Math.max(0, ms), seq: this.seq++,
        fire: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      if (Number.isFinite(ms)) this.timers.push(timer);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Real work the clock must wait for before it moves. */
  track<T>(p: Promise<T>): Promise<T> {
    this.pending++;
    return p.finally(() => {
      this.pending--;
    });
  }

  /** The same crypto, with every SubtleCrypto call tracked. */
  trackCrypto(c: CryptoLike): CryptoLike {
    const subtle = new Proxy(c.subtle, {
      get: (target, prop) => {
        const v = Reflect.get(target, prop) as unknown;
        if (typeof v !== 'function') return v;
        return (...args: unknown[]) => {
          const out = (v as (...a: unknown[]) => unknown).apply(target, args);
          return out instanceof Promise ? this.track(out) : out;
        };
      },
    });
    return { subtle, getRandomValues: (a) => c.getRandomValues(a) };
  }

  /** Fires the timers due now (that moves no time, so it needs no settling); true if there were any. */
  private fireDue(): boolean {
    const due = this.timers.filter((x) => x.at <= this.t);
    if (due.length === 0) return false;
    this.timers = this.timers.filter((x) => x.at > this.t);
    due.sort((a, b) => a.seq - b.seq).forEach((d) => d.fire());
    return true;
  }

  /** Moves to the earliest timer and fires every timer due then; false when there is none. */
  step(): boolean {
    if (this.timers.length === 0) return false;
    this.t = Math.max(this.t, Math.min(...this.timers.map((x) => x.at)));
    return this.fireDue();
  }

  /**
   * Drives time in the background until the returned stop() is called: timers due now fire at
   * once; time moves to the next timer only after a few turns of the event loop with no tracked
   * work pending.
   */
  drive(): () => void {
    let on = true;
    void (async () => {
      let quiet = 0;
      let idle = 0;
      while (on) {
        await new Promise((r) => (idle < 1000 ? setImmediate(r) : setTimeout(r, 1)));
        if (!on) break;
        if (this.fireDue()) {
          quiet = idle = 0;
          continue;
        }
        quiet = this.pending === 0 ? quiet + 1 : 0;
        if (quiet >= 3 && this.step()) quiet = idle = 0;
        else idle++;
      }
    })();
    return () => {
      on = false;
    };
  }
}

/** Collects a generator's output into one buffer. */
export async function collect(gen: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const p of gen) parts.push(p);
  return concatBytes(parts);
}
