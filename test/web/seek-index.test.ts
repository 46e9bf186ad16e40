// Seeking through the index built at upload: the point a seek fetches from is the last one at or
// before the wanted time, found by binary search over up to tens of thousands of points; on
// files ffmpeg made and the uploader's indexer read, that byte starts a Cluster or a moof.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { SeekPoint } from '../../protocol/media/media-index.ts';
import { MediaIndexer } from '../../protocol/media/media-indexer.ts';
import { pointFor, pointIndexAt } from '../../web/src/player/seek-index.ts';
import { makeVideo, type MediaFormat } from '../browser/media.ts';

// A cluster every 2 s, 10 kB apart, after a 1 kB head (Opus pre-skip starts the first a few ms in).
const seek: SeekPoint[] = [[0.007, 1000], [2, 11000], [4, 21000], [6, 31000], [8, 41000], [10, 51000]];

describe('pointFor', () => {
  it('gives the last point at or before the time', () => {
    expect(pointFor(seek, 9)).toEqual([8, 41000]);
    expect(pointFor(seek, 8)).toEqual([8, 41000]);
    expect(pointFor(seek, 7.999)).toEqual([6, 31000]);
    expect(pointFor(seek, 11.9)).toEqual([10, 51000]);
  });

  it('gives the first point for a time before them all, and nothing without an index', () => {
    expect(pointFor(seek, 0)).toEqual([0.007, 1000]);
    expect(pointFor([], 3)).toBeNull();
    expect(pointIndexAt([], 3)).toBe(-1);
  });

  it('takes a time a hair below a point as that point (the element reads back what it was set to, rounded)', () => {
    expect(pointFor(seek, 4 - 1e-7)).toEqual([4, 21000]);
    expect(pointFor(seek, 4 - 1e-3)).toEqual([2, 11000]);
  });

  it('agrees with a scan of every point on a long index', () => {
    const long: SeekPoint[] = Array.from({ length: 5000 }, (_, i) => [i * 2 + (i % 3) * 0.1, 500 + i * 9000]);
    for (let k = 0; k < 2000; k++) {
      const t = (k * 7.31) % 10_100;
      const scan = long.filter((p) => p[0] <= t + 1e-6).at(-1) ?? long[0];
      expect(pointFor(long, t)).toBe(scan);
    }
  });
});

describe('pointFor on an uploaded file\'s index', () => {
  const CLUSTER = [0x1f, 0x43, 0xb6, 0x75];
  for (const [format, starts] of [['webm', (b: Uint8Array, at: number) => [...b.subarray(at, at + 4)].join() === CLUSTER.join()],
    ['webm-live', (b: Uint8Array, at: number) => [...b.subarray(at, at + 4)].join() === CLUSTER.join()],
    ['fmp4', (b: Uint8Array, at: number) => new TextDecoder().decode(b.subarray(at + 4, at + 8)) === 'moof']] as const) {
    it(`${format}: a seek to 75 % fetches from a piece that starts at or before it, well past the start`, () => {
      const bytes = new Uint8Array(readFileSync(makeVideo(format as MediaFormat, 12)));
      const indexer = new MediaIndexer();
      for (let at = 0; at < bytes.length; at += 100_000) indexer.push(bytes.subarray(at, at + 100_000));
      const { seek } = indexer.finish()!;
      const [time, offset] = pointFor(seek, 9)!;
      expect(time).toBeLessThanOrEqual(9);
      expect(time).toBeGreaterThan(6);
      expect(offset).toBeGreaterThan(bytes.length / 2);
      expect(starts(bytes, offset)).toBe(true);
    });
  }
});
