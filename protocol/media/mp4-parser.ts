// MP4 seek points from the stream itself, not from an mfra (which not every muxer writes): the
// moov tells each track's timescale and handler and whether the file is fragmented (mvex);
// every moof is a point at its own offset, timed by the video track's tfdt (else the first
// track's), preferring moofs whose first video sample is a sync sample. Only small boxes are
// kept; mdat and the sample tables of a plain MP4 are skipped by count.
import { ByteFeed, MAX_TAKE, MAX_TRACKS, type FeedSnapshot } from './byte-feed.ts';
import type { MediaIndex } from './media-index.ts';
import { lastPointTime, newSeekPoints, offerPoint, seekPoints, type SeekPointsState } from './seek-points.ts';
import { mimeOf, mp4Codecs, type Codecs } from './sniff.ts';

/** Boxes walked into, each under the only parent where it matters ('' is the file's top level). */
const CONTAINERS: Record<string, string> = { moov: '', moof: '', trak: 'moov', mvex: 'moov', mdia: 'trak', minf: 'mdia', stbl: 'minf', traf: 'moof' };
/** Boxes read whole (or their first MAX_TAKE bytes), under their parent. */
const VALUES: Record<string, string> = {
  sidx: '', mvhd: 'moov', tkhd: 'trak', mdhd: 'mdia', hdlr: 'mdia', stsd: 'stbl', mehd: 'mvex', trex: 'mvex', tfhd: 'traf', tfdt: 'traf', trun: 'traf',
};
const NON_SYNC = 0x10000; // sample_is_non_sync_sample in ISO/IEC 14496-12 sample flags

interface Track { id: number; scale: number; handler: string; end: number | null; defaultDuration: number; defaultFlags: number | null }
interface Traf { track: number; tfdt: number | null; firstFlags: number | null; defaultDuration: number | null; defaultFlags: number | null; duration: number; truns: number }
interface Mp4State {
  stage: 'header' | 'value';
  el: { type: string; payload: number };
  stack: { type: string; end: number }[];
  ftyp: boolean;
  moov: boolean;
  fragmented: boolean;
  movieScale: number;
  movieDuration: number | null;
  fragmentDuration: number | null;
  sidxDuration: number | null;
  tracks: Track[];
  codecs: Codecs;
  moof: { start: number; trafs: Traf[] } | null;
  moofs: number;
  points: SeekPointsState;
}
export interface Mp4Snapshot { feed: FeedSnapshot; s: Mp4State }

/** Big-endian reads that say NaN past the end, so a cut box yields nothing rather than a throw. */
const u32 = (b: Uint8Array, at: number) => (at + 4 <= b.length ? ((b[at] << 24) >>> 0) + (b[at + 1] << 16) + (b[at + 2] << 8) + b[at + 3] : NaN);
const u64 = (b: Uint8Array, at: number) => u32(b, at) * 2 ** 32 + u32(b, at + 4);
const u16 = (b: Uint8Array, at: number) => (at + 2 <= b.length ? (b[at] << 8) + b[at + 1] : NaN);
const fourcc = (b: Uint8Array, at: number) => String.fromCharCode(...b.subarray(at, at + 4));
const known = (n: number) => (Number.isFinite(n) ? n : null);

export class Mp4Parser extends ByteFeed {
  private s: Mp4State = {
    stage: 'header', el: { type: '', payload: 0 }, stack: [], ftyp: false, moov: false, fragmented: false, movieScale: 0,
    movieDuration: null, fragmentDuration: null, sidxDuration: null, tracks: [], codecs: { video: null, audio: null },
    moof: null, moofs: 0, points: newSeekPoints(),
  };

  constructor(from?: Mp4Snapshot) {
    super();
    if (from) {
      this.restoreFeed(from.feed);
      this.s = from.s;
    } else {
      this.take(8);
    }
  }

  snapshot(): Mp4Snapshot {
    return { feed: this.feedSnapshot(), s: structuredClone(this.s) };
  }

  protected step(got: Uint8Array | null): void {
    const s = this.s;
    if (got === null) return this.nextHeader();
    if (s.stage === 'value') {
      this.value(s.el.type, got);
      if (this.done) return;
      return got.length < s.el.payload ? this.skip(s.el.payload - got.length) : this.nextHeader();
    }
    const size32 = u32(got, 0);
    if (size32 === 1 && got.length < 16) return this.extend(16);
    const headerLen = got.length;
    const size = size32 === 1 ? u64(got, 8) : size32;
    // size 0 runs to the end of the file (a last mdat): nothing after it to index.
    if (size < headerLen) return this.stop();
    this.box(fourcc(got, 4), this.pos - headerLen, size, size - headerLen);
  }

  private nextHeader(): void {
    this.s.stage = 'header';
    this.take(8);
  }

  private box(type: string, start: number, size: number, payload: number): void {
    const s = this.s;
    const stack = s.stack;
    while (stack.length > 0 && start >= stack[stack.length - 1].end) this.closed(stack.pop()!.type);
    const parent = stack.at(-1)?.type ?? '';
    if (!s.ftyp) {
      if (type !== 'ftyp') return this.stop();
      s.ftyp = true;
    }
    if (CONTAINERS[type] === parent && !this.full(type)) {
      stack.push({ type, end: start + size });
      this.opened(type, start);
      return this.nextHeader();
    }
    if (VALUES[type] === parent && payload > 0) {
      s.stage = 'value';
      s.el = { type, payload };
      return this.take(Math.min(payload, MAX_TAKE));
    }
    this.skip(payload);
  }

  /** Whether a trak or traf past MAX_TRACKS: it is skipped whole, so its values land nowhere. */
  private full(type: string): boolean {
    const s = this.s;
    return (type === 'trak' && s.tracks.length >= MAX_TRACKS) || (type === 'traf' && (s.moof?.trafs.length ?? 0) >= MAX_TRACKS);
  }

  private opened(type: string, start: number): void {
    const s = this.s;
    if (type === 'moov') s.moov = true;
    if (type === 'mvex') s.fragmented = true;
    if (type === 'trak') s.tracks.push({ id: 0, scale: 0, handler: '', end: null, defaultDuration: 0, defaultFlags: null });
    if (type === 'moof') {
      s.moof = { start, trafs: [] };
      s.moofs++;
    }
    if (type === 'traf' && s.moof) s.moof.trafs.push({ track: 0, tfdt: null, firstFlags: null, defaultDuration: null, defaultFlags: null, duration: 0, truns: 0 });
  }

  private closed(type: string): void {
    const s = this.s;
    const traf = s.moof?.trafs.at(-1);
    if (type === 'traf' && traf && traf.tfdt !== null) {
      const t = this.track(traf.track);
      if (t) t.end = Math.max(t.end ?? 0, traf.tfdt + traf.duration);
    }
    if (type === 'moof' && s.moof) {
      this.moofPoint(s.moof);
      s.moof = null;
    }
  }

  private track(id: number): Track | undefined {
    return this.s.tracks.find((t) => t.id === id);
  }

  /** The track whose time places the points: the video track, else the first. */
  private mainTrack(): Track | undefined {
    return this.s.tracks.find((t) => t.handler === 'vide') ?? this.s.tracks[0];
  }

  private moofPoint(moof: { start: number; trafs: Traf[] }): void {
    const main = this.mainTrack();
    const hasVideo = main?.handler === 'vide';
    const own = moof.trafs.find((t) => t.track === main?.id && t.tfdt !== null);
    const traf = own ?? moof.trafs.find((t) => t.tfdt !== null && (this.track(t.track)?.scale ?? 0) > 0);
    const scale = traf && this.track(traf.track)?.scale;
    if (!traf || !scale) return;
    const flags = traf.firstFlags ?? traf.defaultFlags ?? this.track(traf.track)?.defaultFlags ?? null;
    // A fragment without the video track cannot start playback of it; flags we cannot tell count as a start.
    const key = !hasVideo || (own !== undefined && (flags === null || (flags & NON_SYNC) === 0));
    offerPoint(this.s.points, traf.tfdt! / scale, moof.start, key);
  }

  private value(type: string, b: Uint8Array): void {
    const s = this.s;
    const v1 = b[0] === 1;
    const track = s.tracks.at(-1);
    const traf = s.moof?.trafs.at(-1);
    switch (type) {
      case 'mvhd': {
        s.movieScale = known(u32(b, v1 ? 20 : 12)) ?? 0;
        const d = v1 ? u64(b, 24) : u32(b, 16);
        s.movieDuration = d > 0 && d !== 0xffffffff && d < 2 ** 53 ? d : null;
        break;
      }
      case 'mehd': {
        const d = v1 ? u64(b, 4) : u32(b, 4);
        s.fragmentDuration = d > 0 && d < 2 ** 53 ? d : null;
        break;
      }
      case 'tkhd': if (track) track.id = known(u32(b, v1 ? 20 : 12)) ?? 0; break;
      case 'mdhd': if (track) track.scale = known(u32(b, v1 ? 20 : 12)) ?? 0; break;
      case 'hdlr': if (track && b.length >= 12) track.handler = fourcc(b, 8); break;
      case 'stsd': {
        const c = mp4Codecs(b);
        s.codecs.video ??= c.video;
        s.codecs.audio ??= c.audio;
        break;
      }
      case 'trex': {
        const t = this.track(u32(b, 4));
        if (t) {
          t.defaultDuration = known(u32(b, 12)) ?? 0;
          t.defaultFlags = known(u32(b, 20));
        }
        break;
      }
      case 'sidx': this.sidx(b, v1); break;
      case 'tfhd': if (traf) this.tfhd(traf, b); break;
      case 'tfdt': if (traf) traf.tfdt = known(v1 ? u64(b, 4) : u32(b, 4)); break;
      case 'trun': if (traf) this.trun(traf, b); break;
    }
  }

  private tfhd(traf: Traf, b: Uint8Array): void {
    const flags = u32(b, 0) & 0xffffff;
    traf.track = known(u32(b, 4)) ?? 0;
    let at = 8;
    if (flags & 0x1) at += 8; // base_data_offset
    if (flags & 0x2) at += 4; // sample_description_index
    if (flags & 0x8) { traf.defaultDuration = known(u32(b, at)); at += 4; }
    if (flags & 0x10) at += 4; // default_sample_size
    if (flags & 0x20) traf.defaultFlags = known(u32(b, at));
  }

  private trun(traf: Traf, b: Uint8Array): void {
    const flags = u32(b, 0) & 0xffffff;
    const count = u32(b, 4);
    let at = 8;
    if (flags & 0x1) at += 4; // data_offset
    const first = traf.truns++ === 0;
    if (flags & 0x4) {
      if (first) traf.firstFlags = known(u32(b, at));
      at += 4;
    }
    const fields = [0x100, 0x200, 0x400, 0x800].filter((f) => flags & f).length;
    const fallback = traf.defaultDuration ?? this.track(traf.track)?.defaultDuration ?? 0;
    // A trun longer than MAX_TAKE is read in part: its duration then falls short, nothing worse.
    for (let i = 0; i < count && at + 4 * fields <= b.length; i++, at += 4 * fields) {
      traf.duration += flags & 0x100 ? u32(b, at) : fallback;
      if (i === 0 && first && !(flags & 0x4) && flags & 0x400) traf.firstFlags = u32(b, at + 4 * [0x100, 0x200].filter((f) => flags & f).length);
    }
  }

  private sidx(b: Uint8Array, v1: boolean): void {
    const scale = u32(b, 8);
    const earliest = v1 ? u64(b, 12) : u32(b, 12);
    let at = v1 ? 28 : 20; // past earliest_presentation_time and first_offset
    const count = u16(b, at + 2);
    at += 4;
    let total = earliest;
    for (let i = 0; i < count && at + 12 <= b.length; i++, at += 12) total += u32(b, at + 4);
    if (scale > 0 && Number.isFinite(total)) this.s.sidxDuration = Math.max(this.s.sidxDuration ?? 0, total / scale);
  }

  /** What the bytes so far tell; null when they held no moov or moof after an ftyp. */
  result(): MediaIndex | null {
    const saved = structuredClone(this.s);
    while (this.s.stack.length > 0 && this.pos >= this.s.stack[this.s.stack.length - 1].end) this.closed(this.s.stack.pop()!.type);
    const s = this.s;
    this.s = saved;
    if (!s.ftyp || (!s.moov && s.moofs === 0)) return null;
    const streamable = s.fragmented || s.moofs > 0;
    const main = s.tracks.find((t) => t.handler === 'vide') ?? s.tracks[0];
    const movie = (d: number | null) => (d !== null && s.movieScale > 0 ? d / s.movieScale : null);
    const duration = movie(s.fragmentDuration) ?? movie(s.movieDuration)
      ?? (main?.end != null && main.scale > 0 ? main.end / main.scale : null) ?? s.sidxDuration ?? lastPointTime(s.points);
    return {
      container: 'mp4',
      mime: mimeOf('mp4', s.codecs),
      duration,
      streamable,
      seek: streamable ? seekPoints(s.points) : [],
    };
  }
}
