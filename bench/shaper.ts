// The benchmark's traffic shaper: one HTTP reverse proxy per node, each on its own port, in
// front of the node. Downloads (GET/HEAD answers) pass through a token bucket capped at the
// link's rate, after the link's added latency; uploads pass unshaped so setting the bench up is
// quick. Each proxy also serves a deterministic blob at /blob/{size} (byte ranges included),
// identical on every endpoint, so aria2 can use the four shaped endpoints as mirrors of one
// file. A proxy can fail mid-run, when the bytes sent by all proxies reach a threshold: it dies
// (its listener closes and every connection through it is reset, as when a server dies) or it
// hangs (it stays up and keeps every connection open but sends nothing more, as a server whose
// disk or process is wedged: only a client's own timeouts get it out).
import http from 'node:http';
import type { Socket } from 'node:net';
import { streamBytes } from './item-bytes.ts';
import { TokenBucket } from './token-bucket.ts';

export interface LinkShape {
  /** bytes per second; Infinity for no cap */
  rate: number;
  /** ms added before each request is answered */
  latencyMs: number;
}

export interface ShaperTarget {
  /** where the proxy listens */
  port: number;
  /** the node behind it, e.g. http://127.0.0.1:8788 */
  upstream: string;
}

export interface RunStats {
  startedAt: number;
  firstByteAt: number | null;
  lastByteAt: number | null;
  /** longest time without a byte sent by any proxy, between the first and the last byte */
  maxGapMs: number;
  bytes: number[];
  requests: number[];
  /** ms each link had no response body to send, between the run's first and last byte */
  idleMs: number[];
  /** link capacity (bytes) lost while a body waited for it (the shaper ran late) and while bodies had nothing to send */
  lostWaiting: number[];
  lostIdle: number[];
  /** when the fault (death or hang) struck */
  faultAt: number | null;
}

export type FaultAt = { node: number; bytes: number; kind: 'dies' | 'hangs' };

const OPEN: LinkShape = { rate: Infinity, latencyMs: 0 };
/**
 * The token bucket's depth while bytes are ready to go: 100 ms of the link's rate. The shaper
 * runs on the same small machine as the stack and the client under test; when it is
 * descheduled for a moment it catches up afterwards instead of losing link capacity the real
 * link would have used, which would penalise whichever client keeps the machine busier (one that
 * verifies and decrypts, with four nodes reading their disks, over one that only writes a file
 * the shaper itself generates). Idle time is still lost: see TokenBucket.
 */
const bucketDepth = (rate: number) => (Number.isFinite(rate) ? Math.max(64 * 1024, Math.round(rate * 0.1)) : 64 * 1024);
const SLICE = 16 * 1024;
const BLOB_SEED = 'bunsan-bench-blob';
export const MAX_BLOB = 2 ** 34;

class Proxy {
  readonly server: http.Server;
  readonly sockets = new Set<Socket>();
  readonly upstreams = new Set<http.ClientRequest>();
  readonly bucket = new TokenBucket(Infinity, 2 * SLICE);
  readonly agent = new http.Agent({ keepAlive: true });
  shape: LinkShape = OPEN;
  killed = false;
  hung = false;
  /** answers kept open and silent while hung, released (reset) when the next run begins */
  readonly held = new Set<http.ServerResponse>();
  /** shaped bodies being sent, and since when there were none */
  streams = 0;
  idleSince: number | null = null;
  lostAtBegin = [0, 0];

  constructor(readonly index: number, readonly target: ShaperTarget, readonly owner: Shaper) {
    this.server = http.createServer((req, res) => void this.handle(req, res));
    this.server.keepAliveTimeout = 30_000;
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
  }

  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.target.port, '127.0.0.1', () => {
        this.server.off('error', reject);
        resolve();
      });
    });
  }

  kill(): void {
    if (this.killed) return;
    this.killed = true;
    this.server.close();
    for (const s of this.sockets) s.destroy();
    for (const u of this.upstreams) u.destroy();
    this.server.closeAllConnections?.();
  }

  hang(): void {
    this.hung = true;
  }

  /** Keeps the answer open and sends nothing more, until the client gives up or the run ends. */
  private hold(res: http.ServerResponse): Promise<void> {
    if (res.closed) return Promise.resolve();
    this.held.add(res);
    return new Promise((resolve) => res.once('close', () => {
      this.held.delete(res);
      resolve();
    }));
  }

  async revive(): Promise<void> {
    this.hung = false;
    for (const res of this.held) res.destroy();
    if (!this.killed) return;
    this.killed = false;
    await this.listen();
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const shaped = req.method === 'GET' || req.method === 'HEAD';
    this.owner.noteRequest(this.index);
    if (shaped && this.shape.latencyMs > 0) await new Promise((r) => setTimeout(r, this.shape.latencyMs));
    if (this.killed) return void req.socket.destroy();
    if (this.hung) return void this.hold(res); // accepted, never answered
    if (req.url?.startsWith('/blob/')) return this.blob(req, res);
    this.forward(req, res, shaped);
  }

  private forward(req: http.IncomingMessage, res: http.ServerResponse, shaped: boolean): void {
    const up = new URL(this.target.upstream);
    const headers = { ...req.headers, host: up.host };
    const out = http.request({ host: up.hostname, port: up.port, method: req.method, path: req.url, headers, agent: this.agent });
    this.upstreams.add(out);
    out.on('close', () => this.upstreams.delete(out));
    out.on('error', () => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' }).end('upstream failed');
      else res.destroy();
    });
    out.on('response', (answer) => {
      const h = { ...answer.headers };
      delete h.connection;
      delete h['keep-alive'];
      res.writeHead(answer.statusCode ?? 502, h);
      if (this.hung) return void this.hold(res).then(() => answer.destroy()); // headers, then nothing
      if (!shaped) return void answer.pipe(res);
      void this.pump(answer, res);
    });
    req.pipe(out);
  }

  /** Sends the body in slices, each waiting for the link's tokens; backpressure both ways. */
  private async pump(source: AsyncIterable<Buffer>, res: http.ServerResponse): Promise<void> {
    this.owner.noteStream(this.index, +1);
    let hang = false;
    try {
      body: for await (const chunk of source) {
        this.bucket.ready(+1);
        try {
          for (let o = 0; o < chunk.length; o += SLICE) {
            const slice = chunk.subarray(o, o + SLICE);
            await this.bucket.take(slice.length);
            if (res.destroyed || this.killed) return void res.destroy();
            if (this.hung) {
              hang = true;
              break body;
            }
            const ok = res.write(slice);
            this.owner.noteBytes(this.index, slice.length);
            if (!ok) {
              this.bucket.ready(-1); // the receiver is slow: that is the link's loss
              await drained(res);
              this.bucket.ready(+1);
            }
          }
        } finally {
          this.bucket.ready(-1);
        }
      }
      // A body cut off by a hang stays open with nothing more to send (leaving the loop above
      // closed its source) until the client gives up on it.
      if (hang) await this.hold(res);
      else res.end();
    } catch {
      res.destroy();
    } finally {
      this.owner.noteStream(this.index, -1);
    }
  }

  /** /blob/{size}: the same deterministic bytes on every endpoint, with single byte ranges. */
  private blob(req: http.IncomingMessage, res: http.ServerResponse): void {
    const size = Number(req.url!.slice('/blob/'.length));
    if (!Number.isSafeInteger(size) || size < 0 || size > MAX_BLOB) return void res.writeHead(400).end();
    let start = 0;
    let end = size - 1;
    const range = /^bytes=(\d*)-(\d*)$/.exec(req.headers.range ?? '');
    if (range) {
      start = range[1] ? Number(range[1]) : size - Number(range[2]);
      end = range[1] && range[2] ? Math.min(Number(range[2]), size - 1) : size - 1;
      if (start > end || start >= size) return void res.writeHead(416, { 'content-range': `bytes */${size}` }).end();
    }
    const headers: http.OutgoingHttpHeaders = {
      'content-type': 'application/octet-stream', 'accept-ranges': 'bytes', 'content-length': end - start + 1, etag: `"blob-${size}"`,
    };
    if (range) headers['content-range'] = `bytes ${start}-${end}/${size}`;
    res.writeHead(range ? 206 : 200, headers);
    if (req.method === 'HEAD') return void res.end();
    const step = 1 << 20;
    const source = (async function* () {
      for (let o = start; o <= end; o += step) yield streamBytes(BLOB_SEED, o, Math.min(step, end - o + 1));
    })();
    void this.pump(source, res);
  }
}

/** Resolves when the response can take more, or is gone; leaves no listener behind. */
function drained(res: http.ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

export class Shaper {
  private readonly proxies: Proxy[];
  private run: RunStats = Shaper.emptyRun(0);
  private faultAt: FaultAt | null = null;
  private total = 0;

  constructor(targets: ShaperTarget[]) {
    this.proxies = targets.map((t, i) => new Proxy(i, t, this));
  }

  static emptyRun(n: number): RunStats {
    return {
      startedAt: Date.now(), firstByteAt: null, lastByteAt: null, maxGapMs: 0, bytes: Array(n).fill(0), requests: Array(n).fill(0),
      idleMs: Array(n).fill(0), lostWaiting: Array(n).fill(0), lostIdle: Array(n).fill(0), faultAt: null,
    };
  }

  get urls(): string[] {
    return this.proxies.map((p) => `http://127.0.0.1:${p.target.port}`);
  }

  async start(): Promise<void> {
    await Promise.all(this.proxies.map((p) => p.listen()));
  }

  /** The links from now on; null opens every link (no cap, no latency). */
  setShape(links: LinkShape[] | null): void {
    this.proxies.forEach((p, i) => {
      p.shape = links?.[i] ?? OPEN;
      p.bucket.setRate(p.shape.rate, bucketDepth(p.shape.rate));
    });
  }

  /** Starts counting a run; revives failed proxies; fails `fault.node` once all proxies sent `fault.bytes`. */
  async beginRun(fault?: FaultAt): Promise<void> {
    await Promise.all(this.proxies.map((p) => p.revive()));
    for (const p of this.proxies) {
      p.idleSince = null; // idle since the run's first byte, until a body starts
      p.bucket.settle();
      p.lostAtBegin = [p.bucket.lostWaiting, p.bucket.lostIdle];
    }
    this.faultAt = fault ?? null;
    this.total = 0;
    this.run = Shaper.emptyRun(this.proxies.length);
  }

  stats(): RunStats {
    const r = structuredClone(this.run);
    this.proxies.forEach((p, i) => {
      r.lostWaiting[i] = Math.round(p.bucket.lostWaiting - p.lostAtBegin[0]);
      r.lostIdle[i] = Math.round(p.bucket.lostIdle - p.lostAtBegin[1]);
    });
    // a link idle since its last byte is idle until the run's last byte, not beyond
    this.proxies.forEach((p, i) => {
      const since = p.idleSince ?? r.firstByteAt;
      if (p.streams === 0 && since !== null && r.lastByteAt !== null) r.idleMs[i] += Math.max(0, r.lastByteAt - since);
    });
    return r;
  }

  /** A shaped body started (+1) or ended (-1) on link i. */
  noteStream(i: number, d: number): void {
    const p = this.proxies[i];
    const now = Date.now();
    const since = p.idleSince ?? this.run.firstByteAt;
    if (d > 0 && p.streams++ === 0 && since !== null && this.run.firstByteAt !== null) {
      this.run.idleMs[i] += Math.max(0, now - Math.max(since, this.run.firstByteAt));
    }
    if (d < 0 && --p.streams === 0) p.idleSince = now;
  }

  noteRequest(i: number): void {
    this.run.requests[i]++;
  }

  noteBytes(i: number, n: number): void {
    const now = Date.now();
    const r = this.run;
    if (r.lastByteAt !== null) r.maxGapMs = Math.max(r.maxGapMs, now - r.lastByteAt);
    r.firstByteAt ??= now;
    r.lastByteAt = now;
    r.bytes[i] += n;
    this.total += n;
    const f = this.faultAt;
    if (f && this.total >= f.bytes) {
      if (f.kind === 'dies') this.proxies[f.node].kill();
      else this.proxies[f.node].hang();
      r.faultAt = now;
      this.faultAt = null;
    }
  }

  async stop(): Promise<void> {
    for (const p of this.proxies) {
      p.kill();
      p.agent.destroy();
    }
  }
}

export const BLOB = { seed: BLOB_SEED };
