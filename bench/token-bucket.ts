// A token bucket for bytes: `take(n)` resolves once n bytes may go out at `rate` bytes per
// second. Waiters are served first come, first served, and the shaper asks in small slices, so
// responses sharing one link share its rate about evenly, as TCP flows on one bottleneck do.
// How much unspent capacity the bucket keeps depends on why it went unspent: while bytes were
// ready to go (the shaper itself was descheduled for a moment on a busy machine) it keeps up to
// `burst`, so the link loses nothing the real one would not have; while no bytes were ready
// (no response, or its sender or receiver was slow) it keeps at most `idleBurst`, so that time
// is lost, as on a real link. `ready(±1)` tells it a response has bytes in hand.

export class TokenBucket {
  private tokens: number;
  private last = performance.now();
  private readonly queue: Array<{ n: number; resolve: () => void }> = [];
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(private rate: number, private burst: number, private readonly idleBurst = 16 * 1024) {
    this.tokens = Math.min(burst, idleBurst);
  }

  /** Changes the rate (Infinity: no limit) and the depth from now on. */
  setRate(rate: number, burst = this.burst): void {
    this.refill();
    this.rate = rate;
    this.burst = burst;
    this.tokens = Math.min(this.tokens, burst);
    this.drain();
  }

  private readyStreams = 0;

  /** A response has bytes in hand (+1), or is waiting for its sender or its receiver (-1). */
  ready(d: number): void {
    this.refill();
    this.readyStreams += d;
  }

  /** Brings the counters up to now (before reading them). */
  settle(): void {
    this.refill();
  }

  take(n: number): Promise<void> {
    if (this.rate === Infinity) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.refill(); // what overflowed before this request came was not lost while waiting
      if (this.queue.length === 0 && this.emptySince !== null) this.emptyMs += performance.now() - this.emptySince;
      this.emptySince = null;
      this.queue.push({ n, resolve });
      this.drain();
    });
  }

  /** ms with nobody waiting for tokens (the link had nothing ready to send) */
  emptyMs = 0;
  private emptySince: number | null = null;

  /** tokens that overflowed the bucket while someone was waiting (the shaper itself ran late) */
  lostWaiting = 0;
  /** tokens that overflowed while nobody was waiting */
  lostIdle = 0;

  private refill(): void {
    const now = performance.now();
    const full = this.tokens + ((now - this.last) / 1000) * this.rate;
    const waiting = this.queue.length > 0 || this.readyStreams > 0;
    const cap = waiting ? this.burst : Math.min(this.burst, this.idleBurst);
    if (full > cap && Number.isFinite(full)) {
      if (waiting) this.lostWaiting += full - cap;
      else this.lostIdle += full - cap;
    }
    this.tokens = Math.min(cap, full);
    this.last = now;
  }

  private drain(): void {
    this.refill();
    while (this.queue.length > 0 && (this.rate === Infinity || this.tokens >= Math.min(this.queue[0].n, this.burst))) {
      const head = this.queue.shift()!;
      this.tokens -= Math.min(head.n, this.burst);
      head.resolve();
      if (this.queue.length === 0) this.emptySince = performance.now();
    }
    if (this.queue.length === 0 || this.timer) return;
    const need = Math.min(this.queue[0].n, this.burst) - this.tokens;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.drain();
    }, Math.max(1, (need / this.rate) * 1000));
  }
}
