// WebM/Matroska seek points from the stream itself, not from Cues (which live recordings and
// MediaRecorder files lack): every Cluster's offset and Timecode, preferring Clusters whose first
// video block is a keyframe. Elements are walked header by header; only small values are kept,
// block payloads are skipped by count. Unknown-size Segments and Clusters end where an element
// that cannot be their child begins.
import { ByteFeed, MAX_TRACKS, type FeedSnapshot } from './byte-feed.ts';
import type { MediaIndex } from './media-index.ts';
import { lastPointTime, newSeekPoints, offerPoint, seekPoints, type SeekPointsState } from './seek-points.ts';
import { matroskaCodecs, mimeOf } from './sniff.ts';

const ID = {
  ebml: 0x1a45dfa3, docType: 0x4282, segment: 0x18538067, seekHead: 0x114d9b74, info: 0x1549a966, tracks: 0x1654ae6b,
  cluster: 0x1f43b675, cues: 0x1c53bb6b, chapters: 0x1043a770, tags: 0x1254c367, attachments: 0x1941a469,
  scale: 0x2ad7b1, duration: 0x4489, trackEntry: 0xae, trackNumber: 0xd7, trackType: 0x83, codecId: 0x86,
  timecode: 0xe7, simpleBlock: 0xa3, blockGroup: 0xa0, block: 0xa1, referenceBlock: 0xfb,
} as const;

/** What ends an unknown-size Cluster: an element of the Segment's level or above. */
const ABOVE_CLUSTER = new Set<number>([ID.ebml, ID.segment, ID.seekHead, ID.info, ID.tracks, ID.cluster, ID.cues, ID.chapters, ID.tags, ID.attachments]);
/** The small values read, each under the only parent where it means what we want. */
const VALUE_PARENT = new Map<number, number>([
  [ID.docType, ID.ebml], [ID.scale, ID.info], [ID.duration, ID.info], [ID.trackNumber, ID.trackEntry],
  [ID.trackType, ID.trackEntry], [ID.codecId, ID.trackEntry], [ID.timecode, ID.cluster],
]);
const VIDEO_TRACK = 1;
const MAX_VALUE = 64;
const BLOCK_HEAD = 11; // track number (up to 8) + relative timecode (2) + flags (1)

interface Open { id: number; end: number } // end -1: unknown size
interface WebmState {
  stage: 'header' | 'value' | 'block';
  el: { id: number; size: number };
  stack: Open[];
  ebml: boolean;
  segment: boolean;
  scale: number;
  duration: number | null;
  tracks: { num: number; type: number; codec: string }[];
  cluster: { start: number; time: number | null; decided: boolean } | null;
  group: { track: number; ref: boolean } | null;
  lastBlock: number | null;
  points: SeekPointsState;
}
export interface WebmSnapshot { feed: FeedSnapshot; s: WebmState }

/** Element header length from its first bytes, or -1 when they cannot start one. */
function headerLength(b: Uint8Array): number {
  const idLen = Math.clz32(b[0]) - 23;
  if (idLen > 4) return -1;
  if (b.length < idLen + 1) return idLen + 1;
  const sizeLen = Math.clz32(b[idLen]) - 23;
  return sizeLen > 8 ? -1 : idLen + sizeLen;
}

function uint(b: Uint8Array, from = 0, to = b.length): number {
  let v = 0;
  for (let i = from; i < to; i++) v = v * 256 + b[i];
  return v;
}

export class WebmParser extends ByteFeed {
  private s: WebmState = {
    stage: 'header', el: { id: 0, size: 0 }, stack: [], ebml: false, segment: false, scale: 1_000_000, duration: null,
    tracks: [], cluster: null, group: null, lastBlock: null, points: newSeekPoints(),
  };

  constructor(from?: WebmSnapshot) {
    super();
    if (from) {
      this.restoreFeed(from.feed);
      this.s = from.s;
    } else {
      this.take(1);
    }
  }

  snapshot(): WebmSnapshot {
    return { feed: this.feedSnapshot(), s: structuredClone(this.s) };
  }

  protected step(got: Uint8Array | null): void {
    const s = this.s;
    if (got === null) return this.nextHeader();
    if (s.stage === 'header') {
      const need = headerLength(got);
      if (need < 0) return this.stop();
      if (need > got.length) return this.extend(need);
      const idLen = Math.clz32(got[0]) - 23;
      const sizeLen = need - idLen;
      const size = (got[idLen] & (0xff >> sizeLen)) * 256 ** (sizeLen - 1) + uint(got, idLen + 1, need);
      return this.element(uint(got, 0, idLen), this.pos - need, size === 2 ** (7 * sizeLen) - 1 ? -1 : size);
    }
    if (s.stage === 'value') this.value(s.el.id, got);
    else this.blockHead(got);
    if (this.done) return;
    if (s.stage === 'block' && got.length < s.el.size) return this.skip(s.el.size - got.length);
    this.nextHeader();
  }

  private nextHeader(): void {
    this.s.stage = 'header';
    this.take(1);
  }

  private element(id: number, start: number, size: number): void {
    const s = this.s;
    this.closeBefore(id, start);
    const parent = s.stack.at(-1)?.id ?? 0;
    const end = size < 0 ? -1 : this.pos + size;
    const open = () => { s.stack.push({ id, end }); this.nextHeader(); };
    if (parent === 0) {
      if (!s.ebml) return id === ID.ebml && size >= 0 ? (s.ebml = true, open()) : this.stop();
      // A second Segment (chained files) starts its times over: the index covers the first.
      if (id === ID.ebml || (id === ID.segment && s.segment)) return this.stop();
      if (id === ID.segment) return (s.segment = true, open());
    } else if (parent === ID.segment) {
      if (id === ID.cluster) {
        s.cluster = { start, time: null, decided: false };
        return open();
      }
      if ((id === ID.info || id === ID.tracks) && size >= 0) return open();
    } else if (parent === ID.tracks && id === ID.trackEntry && size >= 0 && s.tracks.length < MAX_TRACKS) {
      // Entries past MAX_TRACKS are skipped below like any element not walked into.
      s.tracks.push({ num: 0, type: 0, codec: '' });
      return open();
    } else if (parent === ID.cluster) {
      if (id === ID.blockGroup && size >= 0) {
        s.group = { track: -1, ref: false };
        return open();
      }
      if (id === ID.simpleBlock && size >= 4) return this.read('block', id, size, Math.min(size, BLOCK_HEAD));
    } else if (parent === ID.blockGroup) {
      if (id === ID.block && size >= 4) return this.read('block', id, size, Math.min(size, BLOCK_HEAD));
      if (id === ID.referenceBlock && s.group) s.group.ref = true;
    }
    if (VALUE_PARENT.get(id) === parent && size > 0 && size <= MAX_VALUE) return this.read('value', id, size, size);
    if (size < 0) return this.stop(); // an unknown size we cannot walk: nothing after it can be placed
    this.skip(size);
  }

  private read(stage: 'value' | 'block', id: number, size: number, n: number): void {
    this.s.stage = stage;
    this.s.el = { id, size };
    this.take(n);
  }

  /** Closes the open elements that end before `start`, or that an element of `id` cannot be inside. */
  private closeBefore(id: number, start: number): void {
    const stack = this.s.stack;
    while (stack.length > 0) {
      const top = stack[stack.length - 1];
      const ends = top.end >= 0 ? start >= top.end
        : top.id === ID.cluster ? ABOVE_CLUSTER.has(id)
          : id === ID.ebml || id === ID.segment;
      if (!ends) return;
      stack.pop();
      this.closed(top.id);
    }
  }

  private closed(id: number): void {
    const s = this.s;
    if (id === ID.blockGroup && s.group) {
      if (this.isVideo(s.group.track)) this.decide(!s.group.ref);
      s.group = null;
    }
    if (id === ID.cluster) {
      this.decide(false); // no video block in it: a point only while no keyframe was seen
      s.cluster = null;
    }
  }

  private isVideo(track: number): boolean {
    return this.s.tracks.some((t) => t.num === track && t.type === VIDEO_TRACK);
  }

  private decide(key: boolean): void {
    const c = this.s.cluster;
    if (!c || c.decided || c.time === null) return;
    c.decided = true;
    offerPoint(this.s.points, (c.time * this.s.scale) / 1e9, c.start, key);
  }

  private value(id: number, b: Uint8Array): void {
    const s = this.s;
    const track = s.tracks.at(-1);
    const text = () => String.fromCharCode(...b).replace(/\0+$/, '');
    if (id === ID.docType && !/^(webm|matroska)$/.test(text())) return this.stop();
    if (id === ID.scale && uint(b) > 0) s.scale = uint(b);
    if (id === ID.duration && (b.length === 4 || b.length === 8)) {
      const v = new DataView(b.buffer, b.byteOffset, b.length);
      const d = b.length === 4 ? v.getFloat32(0) : v.getFloat64(0);
      if (Number.isFinite(d) && d > 0) s.duration = d;
    }
    if (track && id === ID.trackNumber) track.num = uint(b);
    if (track && id === ID.trackType) track.type = uint(b);
    if (track && id === ID.codecId) track.codec = text();
    if (id === ID.timecode && s.cluster && s.cluster.time === null) {
      s.cluster.time = uint(b);
      // Without video every Cluster is a place to start.
      if (!s.tracks.some((t) => t.type === VIDEO_TRACK)) this.decide(true);
    }
  }

  private blockHead(b: Uint8Array): void {
    const s = this.s;
    const len = Math.clz32(b[0]) - 23;
    if (len > 8 || b.length < len + 3) return;
    const track = (b[0] & (0xff >> len)) * 256 ** (len - 1) + uint(b, 1, len);
    const rel = new DataView(b.buffer, b.byteOffset + len, 2).getInt16(0);
    const c = s.cluster;
    if (c?.time !== null && c?.time !== undefined) s.lastBlock = Math.max(s.lastBlock ?? 0, c.time + rel);
    if (s.el.id === ID.block) {
      if (s.group) s.group.track = track;
    } else if (this.isVideo(track)) {
      this.decide((b[len + 2] & 0x80) !== 0);
    }
  }

  /** What the bytes so far tell; null when they were not a WebM Segment. */
  result(): MediaIndex | null {
    if (!this.s.segment) return null;
    // A Cluster cut off by the end still counts; closing it works on a copy, so pushing may go on.
    const saved = structuredClone(this.s);
    for (const open of [...this.s.stack].reverse()) this.closed(open.id);
    const s = this.s;
    this.s = saved;
    const toSeconds = (t: number) => (t * s.scale) / 1e9;
    const duration = s.duration !== null ? toSeconds(s.duration) : s.lastBlock !== null ? toSeconds(s.lastBlock) : lastPointTime(s.points);
    return {
      container: 'webm',
      mime: mimeOf('webm', matroskaCodecs(s.tracks.map((t) => t.codec))),
      duration,
      streamable: true,
      seek: seekPoints(s.points),
    };
  }
}
