// The streaming half of a container parser: bytes arrive in file order, in slices of any size,
// and the parser asks either to take a few bytes (kept until complete, at most MAX_TAKE) or to
// skip many (only counted). So memory stays bounded whatever the file, and every step is plain
// data that can be saved between requests and taken up again (see snapshot()).
import { fromBase64Url, toBase64Url } from '../bytes.ts';

/** The largest element a parser keeps whole (an MP4 stsd or trun, a WebM Tracks value). */
export const MAX_TAKE = 64 * 1024;
/**
 * The most tracks a parser keeps (and MP4 track fragments per moof): real files have a handful,
 * so the rest are skipped unread and a file of many tiny boxes cannot grow the saved state.
 */
export const MAX_TRACKS = 64;

export interface FeedSnapshot { pos: number; skip: number; want: number; got: string; stopped: boolean }

export abstract class ByteFeed {
  /** absolute offset of the next byte the feed will get */
  pos = 0;
  private skipLeft = 0;
  private skipping = false;
  private want = 0;
  private buf = new Uint8Array(0);
  private have = 0;
  private stopped = false;
  private asked = false;

  /** Called with the bytes asked for (null after a skip): must ask for the next take or skip, or stop. */
  protected abstract step(got: Uint8Array | null): void;

  protected take(n: number): void {
    this.asked = true;
    this.want = n;
    this.have = 0;
    this.skipping = false;
  }

  /** Asks for more bytes after those already taken (a header whose length its first byte tells). */
  protected extend(n: number): void {
    this.asked = true;
    this.want = n;
  }

  protected skip(n: number): void {
    this.asked = true;
    this.skipLeft = n;
    this.skipping = true;
    this.want = 0;
  }

  protected stop(): void {
    this.asked = true;
    this.stopped = true;
  }

  get done(): boolean {
    return this.stopped;
  }

  /** Bytes from `pos` on that the parser will not look at: a caller may pass() them unread. */
  get skippable(): number {
    return this.stopped ? Infinity : this.skipLeft;
  }

  pass(n: number): void {
    if (n > this.skippable) throw new RangeError(`cannot pass ${n} bytes, only ${this.skippable} are skippable`);
    if (!this.stopped) this.skipLeft -= n;
    this.pos += n;
  }

  push(bytes: Uint8Array): void {
    let i = 0;
    while (!this.stopped) {
      if (this.skipping) {
        const n = Math.min(this.skipLeft, bytes.length - i);
        this.skipLeft -= n;
        this.pos += n;
        i += n;
        if (this.skipLeft > 0) break;
        this.skipping = false;
        this.run(null);
        continue;
      }
      if (this.want <= 0 || this.want > MAX_TAKE) { this.stop(); break; } // a parser bug or garbage: never loop or grow
      if (this.buf.length < this.want) {
        const grown = new Uint8Array(Math.max(this.want, Math.min(MAX_TAKE, this.buf.length * 2)));
        grown.set(this.buf.subarray(0, this.have));
        this.buf = grown;
      }
      const n = Math.min(this.want - this.have, bytes.length - i);
      this.buf.set(bytes.subarray(i, i + n), this.have);
      this.have += n;
      this.pos += n;
      i += n;
      if (this.have < this.want) break;
      this.run(this.buf.subarray(0, this.want));
    }
    if (this.stopped) this.pos += bytes.length - i;
  }

  private run(got: Uint8Array | null): void {
    this.asked = false;
    try {
      this.step(got);
    } catch {
      this.stop(); // malformed media ends the parse, never the upload
    }
    if (!this.asked) this.stop(); // a step that asked for nothing would spin forever
  }

  protected feedSnapshot(): FeedSnapshot {
    return { pos: this.pos, skip: this.skipping ? this.skipLeft : -1, want: this.want, got: toBase64Url(this.buf.subarray(0, this.have)), stopped: this.stopped };
  }

  protected restoreFeed(s: FeedSnapshot): void {
    this.pos = s.pos;
    this.skipping = s.skip >= 0;
    this.skipLeft = Math.max(0, s.skip);
    this.want = s.want;
    const got = fromBase64Url(s.got);
    this.buf = new Uint8Array(Math.max(got.length, s.want));
    this.buf.set(got);
    this.have = got.length;
    this.stopped = s.stopped;
  }
}
