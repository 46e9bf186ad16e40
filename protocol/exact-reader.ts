// Reads exactly N bytes at a time from a byte stream whose pieces arrive in arbitrary sizes:
// the edge cuts a gateway upload into chunks with it, the CLI reads stdin with it.
export class ExactReader {
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  private done = false;

  constructor(private readonly reader: ReadableStreamDefaultReader<Uint8Array>) {}

  /** Bytes read from the stream but not yet handed out. */
  get buffered(): number {
    return this.pendingBytes;
  }

  /** Exactly n bytes, or fewer only when the stream ends first. */
  async read(n: number): Promise<Uint8Array> {
    while (this.pendingBytes < n && !this.done) {
      const { done, value } = await this.reader.read();
      if (done) this.done = true;
      else if (value.byteLength > 0) {
        this.pending.push(value);
        this.pendingBytes += value.byteLength;
      }
    }
    const take = Math.min(n, this.pendingBytes);
    const out = new Uint8Array(take);
    let o = 0;
    while (o < take) {
      const head = this.pending[0];
      const k = Math.min(head.byteLength, take - o);
      out.set(head.subarray(0, k), o);
      o += k;
      if (k === head.byteLength) this.pending.shift();
      else this.pending[0] = head.subarray(k);
    }
    this.pendingBytes -= take;
    return out;
  }

  cancel(): Promise<void> {
    return this.reader.cancel();
  }
}
