// The uploader's media indexer: fed the plaintext in file order, in slices of any size, it
// tells the container from the first bytes and builds the time → byte index as the bytes pass,
// keeping only small elements. Its state is plain data, so the edge can carry it from one
// gateway request to the next.
import { MediaIndex } from './media-index.ts';
import { Mp4Parser, type Mp4Snapshot } from './mp4-parser.ts';
import { isMp4Head, isWebmHead } from './sniff.ts';
import { WebmParser, type WebmSnapshot } from './webm-parser.ts';

const HEAD = 8; // enough to tell an EBML header or an ftyp box
const MIN_PIECE = 16 * 1024;
const MAX_PIECE = 1024 * 1024;

export type IndexerSnapshot =
  | { kind: 'head'; head: number[] }
  | { kind: 'none'; pos: number }
  | { kind: 'webm'; parser: WebmSnapshot }
  | { kind: 'mp4'; parser: Mp4Snapshot };

export class MediaIndexer {
  private head: number[] = [];
  private parser: WebmParser | Mp4Parser | null = null;
  /** bytes seen of a file that is not media: only counted */
  private plain: number | null = null;

  constructor(from?: IndexerSnapshot) {
    if (from?.kind === 'head') this.head = from.head.slice(0, HEAD);
    if (from?.kind === 'none') this.plain = from.pos;
    if (from?.kind === 'webm') this.parser = new WebmParser(from.parser);
    if (from?.kind === 'mp4') this.parser = new Mp4Parser(from.parser);
  }

  /** How far a saved state had got, read off the state without parsing it (-1 for none). */
  static positionOf(s: IndexerSnapshot | null): number {
    if (!s) return -1;
    return s.kind === 'head' ? s.head.length : s.kind === 'none' ? s.pos : s.parser.feed.pos;
  }

  /** How many bytes of the file have been fed (or passed). */
  get position(): number {
    return this.parser?.pos ?? this.plain ?? this.head.length;
  }

  /** Bytes from `position` on that the indexer will not look at (Infinity once it never will). */
  get skippable(): number {
    return this.parser?.skippable ?? (this.plain !== null ? Infinity : 0);
  }

  /** Moves past `n` bytes without their content; at most `skippable`. */
  pass(n: number): void {
    if (this.parser) this.parser.pass(n);
    else if (this.plain !== null) this.plain += n;
    else if (n > 0) throw new RangeError('the first bytes of a file cannot be passed unread');
  }

  push(bytes: Uint8Array): void {
    if (this.parser) return this.parser.push(bytes);
    if (this.plain !== null) {
      this.plain += bytes.length;
      return;
    }
    const n = Math.min(HEAD - this.head.length, bytes.length);
    this.head.push(...bytes.subarray(0, n));
    if (this.head.length < HEAD) return;
    const head = Uint8Array.from(this.head);
    this.parser = isWebmHead(head) ? new WebmParser() : isMp4Head(head) ? new Mp4Parser() : null;
    if (!this.parser) {
      this.plain = bytes.length + HEAD - n;
      return;
    }
    this.parser.push(head);
    this.parser.push(bytes.subarray(n));
  }

  /** The index of what was fed; null when it is not WebM or MP4 media, or too broken to index. */
  finish(): MediaIndex | null {
    const built = this.parser?.result() ?? null;
    if (!built) return null;
    const checked = MediaIndex.safeParse(built);
    return checked.success ? checked.data : null;
  }

  snapshot(): IndexerSnapshot {
    if (this.parser instanceof WebmParser) return { kind: 'webm', parser: this.parser.snapshot() };
    if (this.parser instanceof Mp4Parser) return { kind: 'mp4', parser: this.parser.snapshot() };
    return this.plain !== null ? { kind: 'none', pos: this.plain } : { kind: 'head', head: [...this.head] };
  }
}

/**
 * Feeds the file's bytes up to `end`, reading only what the indexer will look at: what it skips
 * is passed unread, and reads start small and grow while every byte read is used.
 */
export async function feedIndexer(
  indexer: MediaIndexer, end: number, read: (offset: number, length: number) => Promise<Uint8Array>,
): Promise<void> {
  let piece = MIN_PIECE;
  while (indexer.position < end) {
    const skip = Math.min(indexer.skippable, end - indexer.position);
    if (skip > 0) {
      indexer.pass(skip);
      continue;
    }
    const at = indexer.position;
    const bytes = await read(at, Math.min(piece, end - at));
    if (bytes.length === 0) throw new RangeError(`the file ends at ${at}, before ${end}`);
    indexer.push(bytes);
    piece = indexer.skippable > 0 ? MIN_PIECE : Math.min(MAX_PIECE, piece * 2);
  }
}
