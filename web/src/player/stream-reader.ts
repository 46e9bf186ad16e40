// A byte stream read in the sizes the player wants: peek at the head without consuming it,
// then take at least N bytes at a time (or what is left at the end).
export class StreamReader {
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  done = false;

  constructor(stream: ReadableStream<Uint8Array>, private readonly onBytes: (n: number) => void = () => {}) {
    this.reader = stream.getReader();
  }

  /** The first `n` bytes (fewer at the end), left in place for the next take. */
  async peek(n: number): Promise<Uint8Array> {
    while (!this.done && this.pendingBytes < n) await this.pull();
    const all = concat(this.pending);
    this.pending = all.length ? [all] : [];
    return all.subarray(0, n);
  }

  /** Everything buffered once it is at least `min` bytes, or the rest; empty at the end. */
  async take(min: number): Promise<Uint8Array> {
    while (!this.done && this.pendingBytes < min) await this.pull();
    const out = concat(this.pending);
    this.pending = [];
    this.pendingBytes = 0;
    return out;
  }

  async cancel(): Promise<void> {
    this.done = true;
    await this.reader.cancel().catch(() => {});
  }

  private async pull(): Promise<void> {
    const r = await this.reader.read();
    if (r.done) {
      this.done = true;
      return;
    }
    this.pending.push(r.value);
    this.pendingBytes += r.value.length;
    this.onBytes(r.value.length);
  }
}

function concat(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}
