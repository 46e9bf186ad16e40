// One download's view of one node's link: how many requests it has out there, how many bytes
// are still due on them (the node's queue, for earliest-finish choices), and the node's real
// throughput, measured over the time it was actually transferring. Timing whole requests would
// mix the response time into the rate and, with several requests sharing the link, report each
// request's share instead of the link's speed.

/** Below these a sample is noise (timer granularity, one network packet). */
const MIN_SAMPLE_MS = 5;
const MIN_SAMPLE_BYTES = 16 * 1024;
/** While a transfer runs, a sample is taken this often, so a node is known before its first chunk ends. */
const RUNNING_SAMPLE_MS = 50;
const RUNNING_SAMPLE_BYTES = 128 * 1024;

export class Link {
  /** requests in flight from this download */
  own = 0;
  /** bytes still due for them */
  queueBytes = 0;
  private transferring = 0;
  private busyFrom = 0;
  private busyMs = 0;
  private busyBytes = 0;

  started(bytes: number): void {
    this.own++;
    this.queueBytes += bytes;
  }

  /** a response's headers arrived: from now on this request moves bytes */
  headers(now: number): void {
    if (this.transferring++ === 0) this.busyFrom = now;
  }

  bytes(n: number): void {
    this.busyBytes += n;
    this.queueBytes = Math.max(0, this.queueBytes - n);
  }

  /** Whether enough has come since the last sample for another one mid-transfer. */
  sampleDue(now: number): boolean {
    const ms = this.busyMs + (this.transferring > 0 ? now - this.busyFrom : 0);
    return ms >= RUNNING_SAMPLE_MS && this.busyBytes >= RUNNING_SAMPLE_BYTES;
  }

  /** A request ended (any way); `remaining` bytes of it will never come. */
  ended(now: number, hadHeaders: boolean, remaining: number): void {
    this.own = Math.max(0, this.own - 1);
    this.queueBytes = Math.max(0, this.queueBytes - remaining);
    if (hadHeaders && this.transferring > 0 && --this.transferring === 0) this.busyMs += now - this.busyFrom;
  }

  /**
   * Bytes per ms since the last sample, counting only time with a transfer going; null if too
   * little. `meagre`: take it even with few bytes (a request given up on has delivered all it will).
   */
  sample(now: number, meagre = false): number | null {
    const ms = this.busyMs + (this.transferring > 0 ? now - this.busyFrom : 0);
    if (ms < MIN_SAMPLE_MS || (this.busyBytes < MIN_SAMPLE_BYTES && !meagre)) return null;
    const rate = this.busyBytes / ms;
    this.busyMs = 0;
    this.busyBytes = 0;
    this.busyFrom = now;
    return rate;
  }
}
