// The upload-side media indexer on real media made by ffmpeg: WebM with and without Cues (and
// with unknown-size Clusters), fragmented and plain MP4. The index must not depend on how the
// bytes are sliced, must point at real Cluster / moof starts at the keyframe times ffprobe
// reports, and must never throw on what is not media or is broken.
import { describe, expect, it } from 'vitest';
import { MAX_SEEK_POINTS, MediaIndex } from '../../protocol/media/media-index.ts';
import { feedIndexer, MediaIndexer } from '../../protocol/media/media-indexer.ts';
import { newSeekPoints, offerPoint, seekPoints } from '../../protocol/media/seek-points.ts';
import { CLUSTER, CUES, KEYFRAME_EVERY, keyframeTimes, liveWebm, SECONDS, seeded, segmentChildren, video } from './media-files.ts';

function indexOf(bytes: Uint8Array, slices: (rest: number) => number = (rest) => rest): MediaIndex | null {
  const ix = new MediaIndexer();
  for (let at = 0; at < bytes.length;) {
    const n = Math.max(1, Math.min(bytes.length - at, slices(bytes.length - at)));
    ix.push(bytes.subarray(at, at + n));
    at += n;
  }
  return ix.finish();
}

const ascii = (b: Uint8Array, at: number, n: number) => String.fromCharCode(...b.subarray(at, at + n));
const u32 = (b: Uint8Array, at: number) => new DataView(b.buffer, b.byteOffset + at, 4).getUint32(0);
/** An EBML size whose value bits are all ones: "unknown". */
function unknownSize(b: Uint8Array, at: number): boolean {
  const len = Math.clz32(b[at]) - 23;
  return b[at] === 0xff >> (len - 1) && b.subarray(at + 1, at + len).every((x) => x === 0xff);
}

/**
 * Seek times are the video keyframe times (a Cluster's Timecode may lead its first block by a
 * few ms), a keyframe interval apart, over the whole media.
 */
function expectKeyframeTimes(m: MediaIndex, keyframes: number[]) {
  const times = m.seek.map(([t]) => t);
  expect(times.length).toBe(keyframes.length);
  times.forEach((t, i) => expect(Math.abs(t - keyframes[i])).toBeLessThan(0.02));
  for (let i = 1; i < times.length; i++) expect(times[i] - times[i - 1]).toBeCloseTo(KEYFRAME_EVERY, 1);
  expect(times.length).toBe(SECONDS / KEYFRAME_EVERY);
  expect(m.duration).toBeCloseTo(SECONDS, 0);
}

describe('media indexer on WebM', () => {
  it('finds every keyframe Cluster of a WebM with Cues, at its own offset', () => {
    const bytes = video('webm');
    expect(segmentChildren(bytes).some((e) => e.id === CUES)).toBe(true);
    const m = indexOf(bytes)!;
    expect(m).toMatchObject({ container: 'webm', mime: 'video/webm; codecs="vp9,opus"', streamable: true });
    expect(MediaIndex.parse(m)).toEqual(m);
    const clusters = new Set(segmentChildren(bytes).filter((e) => e.id === CLUSTER).map((e) => e.at));
    for (const [, at] of m.seek) {
      expect(clusters.has(at)).toBe(true);
      expect(u32(bytes, at)).toBe(CLUSTER);
    }
    expectKeyframeTimes(m, keyframeTimes('webm'));
  });

  it('indexes a live WebM with no Cues and unknown-size Clusters the same way', () => {
    const { bytes, clusters } = liveWebm();
    // What the bytes really are: no Cues anywhere, and every Cluster's size marked unknown.
    expect(bytes.length).toBeGreaterThan(100_000);
    expect(clusters.length).toBeGreaterThan(SECONDS / KEYFRAME_EVERY);
    for (const at of clusters) expect(unknownSize(bytes, at + 4)).toBe(true);
    expect(Buffer.from(bytes).includes(Buffer.from([0x1c, 0x53, 0xbb, 0x6b]))).toBe(false);
    const m = indexOf(bytes)!;
    expect(m).toMatchObject({ container: 'webm', mime: 'video/webm; codecs="vp9,opus"', streamable: true });
    for (const [, at] of m.seek) expect(clusters).toContain(at);
    // Clusters that do not start with a video keyframe are left out.
    expect(m.seek.length).toBeLessThan(clusters.length);
    expectKeyframeTimes(m, keyframeTimes('webm'));
    // Without Info's Duration the last block's time stands in: the media's length, within a frame.
    expect(m.duration).toBeGreaterThan(SECONDS - 0.1);
  });
});

describe('media indexer on MP4', () => {
  it('times every moof of a fragmented MP4 by the video track', () => {
    const bytes = video('fmp4');
    const m = indexOf(bytes)!;
    expect(m).toMatchObject({ container: 'mp4', streamable: true, mime: expect.stringMatching(/^video\/mp4; codecs="avc1\.[0-9a-f]{6},mp4a\.40\.2"$/) });
    for (const [, at] of m.seek) expect(ascii(bytes, at + 4, 4)).toBe('moof');
    expectKeyframeTimes(m, keyframeTimes('fmp4'));
  });

  it('says a plain MP4 is not streamable and has no seek points, yet knows its duration', () => {
    const m = indexOf(video('mp4'))!;
    expect(m).toMatchObject({ container: 'mp4', streamable: false, seek: [] });
    expect(m.mime).toMatch(/^video\/mp4; codecs="avc1\./);
    expect(m.duration).toBeCloseTo(SECONDS, 0);
  });
});

describe('media indexer, however the bytes come', () => {
  const files = { webm: () => video('webm'), live: () => liveWebm().bytes, fmp4: () => video('fmp4'), mp4: () => video('mp4') };

  for (const [name, make] of Object.entries(files)) {
    it(`${name}: 1-byte, random and whole slices give the identical index`, () => {
      const bytes = make();
      const whole = indexOf(bytes);
      expect(whole).not.toBeNull();
      expect(indexOf(bytes, () => 1)).toEqual(whole);
      const rnd = seeded(bytes.length);
      for (let round = 0; round < 3; round++) {
        expect(indexOf(bytes, () => (rnd() < 0.3 ? 1 : Math.floor(rnd() * 70_000)))).toEqual(whole);
      }
    });

    it(`${name}: a state saved as JSON mid-stream and taken up again gives the same index`, () => {
      const bytes = make();
      const rnd = seeded(7);
      let ix = new MediaIndexer();
      for (let at = 0; at < bytes.length;) {
        const n = 1 + Math.floor(rnd() * 40_000);
        ix.push(bytes.subarray(at, at + n));
        at += n;
        const snap = JSON.parse(JSON.stringify(ix.snapshot()));
        expect(MediaIndexer.positionOf(snap)).toBe(ix.position);
        ix = new MediaIndexer(snap);
      }
      expect(ix.finish()).toEqual(indexOf(bytes));
    });

    it(`${name}: reading only what the indexer looks at gives the same index`, async () => {
      const bytes = make();
      let read = 0;
      const ix = new MediaIndexer();
      await feedIndexer(ix, bytes.length, async (o, l) => { read += l; return bytes.subarray(o, o + l); });
      expect(ix.finish()).toEqual(indexOf(bytes));
      if (name === 'fmp4' || name === 'mp4') expect(read).toBeLessThan(bytes.length / 4); // mdat is skipped unread
    });

    it(`${name}: a cut-off file yields a prefix of the index, never a throw`, () => {
      const bytes = make();
      const whole = indexOf(bytes)!;
      for (const cut of [0, 3, 7, 8, 40, 300, 4000, bytes.length >> 2, bytes.length >> 1, bytes.length - 1]) {
        const m = indexOf(bytes.subarray(0, cut));
        if (m === null) continue;
        expect(MediaIndex.safeParse(m).success).toBe(true);
        expect(m.container).toBe(whole.container);
        expect(whole.seek.slice(0, m.seek.length)).toEqual(m.seek);
      }
      // Half a streamable file already places its first half; a plain MP4 keeps its moov at the end.
      if (name !== 'mp4') expect(indexOf(bytes.subarray(0, bytes.length >> 1))!.seek.length).toBeGreaterThan(1);
    });

    it(`${name}: garbage in the middle does not throw and what comes out is a valid index`, () => {
      const rnd = seeded(42);
      for (let round = 0; round < 8; round++) {
        const bytes = make();
        const at = 8 + Math.floor(rnd() * (bytes.length - 8));
        for (let i = at; i < Math.min(bytes.length, at + 1 + Math.floor(rnd() * 5000)); i++) bytes[i] = Math.floor(rnd() * 256);
        const m = indexOf(bytes, () => 1 + Math.floor(rnd() * 9000));
        if (m !== null) expect(MediaIndex.safeParse(m).success).toBe(true);
      }
    });
  }

  it('says null for what is not media', () => {
    const rnd = seeded(1);
    const noise = Uint8Array.from({ length: 200_000 }, () => Math.floor(rnd() * 256));
    expect(indexOf(noise)).toBeNull();
    expect(indexOf(new TextEncoder().encode('just some text, long enough to be looked at\n'.repeat(100)))).toBeNull();
    expect(new MediaIndexer().finish()).toBeNull();
    // The right magic bytes with noise after them are not media either.
    expect(indexOf(Uint8Array.from([0x1a, 0x45, 0xdf, 0xa3, ...noise.subarray(0, 5000)]))).toBeNull();
    expect(indexOf(Uint8Array.from([0, 0, 0, 16, ...new TextEncoder().encode('ftypisom'), ...noise.subarray(0, 5000)]))).toBeNull();
  });
});

describe('media indexer on many tiny boxes', () => {
  const u32be = (n: number) => [n >>> 24, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff];
  const text = (t: string) => [...new TextEncoder().encode(t)];
  const box = (type: string, ...parts: number[][]) => {
    const payload = parts.flat();
    return [...u32be(8 + payload.length), ...text(type), ...payload];
  };
  /** An EBML element with an 8-byte size, whatever its length. */
  const ebml = (id: number[], ...parts: number[][]) => {
    const payload = parts.flat();
    return [...id, 0x01, 0, 0, 0, ...u32be(payload.length), ...payload];
  };
  const at = (n: number, pairs: [number, number[]][]) => {
    const b = new Array<number>(n).fill(0);
    for (const [i, v] of pairs) b.splice(i, v.length, ...v);
    return b;
  };
  const TRACKS = 10_000;

  /** Pushes in small slices, keeping the largest snapshot as JSON (the state the edge saves). */
  function largestState(bytes: Uint8Array) {
    const ix = new MediaIndexer();
    let largest = 0;
    for (let i = 0; i < bytes.length; i += 4096) {
      ix.push(bytes.subarray(i, i + 4096));
      largest = Math.max(largest, JSON.stringify(ix.snapshot()).length);
    }
    return { largest, index: ix.finish() };
  }

  it('an MP4 of 10 000 traks and a moof of 10 000 trafs keeps its saved state small', () => {
    const trak = (id: number) => box('trak',
      box('tkhd', at(24, [[12, u32be(id)]])),
      box('mdia', box('mdhd', at(24, [[12, u32be(1000)]])), box('hdlr', at(24, [[8, text('vide')]]))));
    const traf = (t: number) => box('traf', box('tfhd', at(8, [[4, u32be(1)]])), box('tfdt', at(8, [[4, u32be(t)]])));
    const bytes = Uint8Array.from([
      ...box('ftyp', text('isom'), u32be(0), text('isom')),
      ...box('moov', box('mvhd', at(100, [[12, u32be(1000)], [16, u32be(5000)]])), box('mvex'),
        ...Array.from({ length: TRACKS }, (_, i) => trak(i + 1))),
      ...box('moof', ...Array.from({ length: TRACKS }, (_, i) => traf(i))),
    ]);
    const moofAt = bytes.length - 8 - TRACKS * 40;
    expect(ascii(bytes, moofAt + 4, 4)).toBe('moof');
    expect(bytes.length).toBeGreaterThan(TRACKS * 100);
    const { largest, index } = largestState(bytes);
    expect(largest).toBeLessThan(64 * 1024);
    expect(index).toMatchObject({ container: 'mp4', streamable: true, duration: 5, seek: [[0, moofAt]] });
  });

  it('a WebM of 10 000 TrackEntries keeps its saved state small', () => {
    const entry = (n: number) => ebml([0xae], ebml([0xd7], [n & 0xff]), ebml([0x83], [1]), ebml([0x86], text('V_VP9'.padEnd(60, 'X'))));
    const cluster = ebml([0x1f, 0x43, 0xb6, 0x75], ebml([0xe7], [0]), ebml([0xa3], [0x81, 0, 0, 0x80, 1, 2, 3]));
    const bytes = Uint8Array.from([
      ...ebml([0x1a, 0x45, 0xdf, 0xa3], ebml([0x42, 0x82], text('webm'))),
      ...ebml([0x18, 0x53, 0x80, 0x67],
        ebml([0x16, 0x54, 0xae, 0x6b], ...Array.from({ length: TRACKS }, (_, i) => entry(i + 1))), cluster),
    ]);
    expect(bytes.length).toBeGreaterThan(TRACKS * 90);
    const { largest, index } = largestState(bytes);
    expect(largest).toBeLessThan(64 * 1024);
    expect(index).toMatchObject({ container: 'webm', streamable: true, seek: [[0, bytes.length - cluster.length]] });
  });
});

describe('seek point thinning', () => {
  it('keeps at most the limit, evenly spread and always the first', () => {
    const p = newSeekPoints();
    for (let i = 0; i < 1000; i++) offerPoint(p, i, i * 10, true, 100);
    const points = seekPoints(p);
    expect(points.length).toBeLessThanOrEqual(100);
    expect(points.length).toBeGreaterThanOrEqual(50);
    expect(points[0]).toEqual([0, 0]);
    const steps = new Set(points.slice(1).map(([t], i) => t - points[i][0]));
    expect(steps.size).toBe(1);
  });

  it('keeps a full-length index within MAX_SEEK_POINTS', () => {
    const p = newSeekPoints();
    for (let i = 0; i < MAX_SEEK_POINTS * 3 + 7; i++) offerPoint(p, i / 2, i + 1, true);
    const points = seekPoints(p);
    expect(points.length).toBeLessThanOrEqual(MAX_SEEK_POINTS);
    expect(points.length).toBeGreaterThan(MAX_SEEK_POINTS / 2);
    expect(MediaIndex.safeParse({ container: 'webm', mime: null, duration: null, streamable: true, seek: points }).success).toBe(true);
  });

  it('prefers keyframe pieces once one is seen, and drops out-of-order ones', () => {
    const p = newSeekPoints();
    offerPoint(p, 0, 10, false);
    offerPoint(p, 1, 20, true);
    offerPoint(p, 2, 30, false);
    offerPoint(p, 3, 40, true);
    offerPoint(p, 2.5, 50, true);
    offerPoint(p, 4, 35, true);
    offerPoint(p, 4, 45, true);
    expect(seekPoints(p)).toEqual([[1, 20], [3, 40], [4, 45]]);
  });
});
