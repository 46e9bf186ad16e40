// A bounded window of decrypted chunks, least recently used first out, capped in bytes. Media
// elements ask for the same bytes several times (Chromium probes an MP4 with a few open-ended
// Range requests, a seek re-reads a fragment): answering those from here saves fetching and
// decrypting the same chunks again, while memory stays at `maxBytes` however long the content.
export class PlainWindow {
  private readonly map = new Map<string, Uint8Array>();
  private held = 0;

  constructor(readonly maxBytes: number) {}

  get bytes(): number {
    return this.held;
  }

  get size(): number {
    return this.map.size;
  }

  has(key: string): boolean {
    return this.map.has(key);
  }

  /** The chunk, now the most recently used; undefined when it was never kept or has been evicted. */
  get(key: string): Uint8Array | undefined {
    const v = this.map.get(key);
    if (v === undefined) return undefined;
    this.map.delete(key);
    this.map.set(key, v); // Map keeps insertion order: re-inserting marks it newest
    return v;
  }

  put(key: string, value: Uint8Array): void {
    if (value.length > this.maxBytes) return; // would evict everything and still not fit
    const old = this.map.get(key);
    if (old) {
      this.map.delete(key);
      this.held -= old.length;
    }
    this.map.set(key, value);
    this.held += value.length;
    for (const [k, v] of this.map) {
      if (this.held <= this.maxBytes) break;
      this.map.delete(k);
      this.held -= v.length;
    }
  }

  clear(): void {
    this.map.clear();
    this.held = 0;
  }
}

/** Chunks of different contents and versions never share a key. */
export const chunkKey = (id: string, version: number, index: number) => `${id}:${version}:${index}`;
