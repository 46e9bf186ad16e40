// The time → byte index read from the media itself, on files ffmpeg made: every WebM point
// is a Cluster, every fMP4 point a moof, times ascending from 0 over the whole duration.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadSeekIndex, pointFor } from '../../web/src/player/seek-index.ts';
import { makeVideo } from '../browser/media.ts';

function load(format: 'webm' | 'fmp4' | 'mp4') {
  const bytes = new Uint8Array(readFileSync(makeVideo(format, 12)));
  const reads: [number, number][] = [];
  const read = async (s: number, e: number) => { reads.push([s, e]); return bytes.slice(s, e + 1); };
  return { bytes, reads, index: loadSeekIndex(format === 'webm' ? 'webm' : 'mp4', bytes.subarray(0, 64 * 1024), bytes.length, read) };
}

describe('seek index', () => {
  it('reads WebM Cues: each point is a Cluster', async () => {
    const { bytes, index, reads } = load('webm');
    const { points, duration } = await index;
    expect(duration).toBeCloseTo(12, 0);
    expect(points.length).toBeGreaterThanOrEqual(5);
    expect(points[0].time).toBeLessThan(0.1); // Opus pre-skip starts the first cluster a few ms in
    for (const p of points) expect([...bytes.subarray(p.offset, p.offset + 4)]).toEqual([0x1f, 0x43, 0xb6, 0x75]);
    expect(reads.length).toBe(2); // the Cues header, then the Cues
  });

  it('reads fMP4 mfra: each point is a moof', async () => {
    const { bytes, index, reads } = load('fmp4');
    const { points, duration } = await index;
    expect(points.length).toBeGreaterThanOrEqual(5);
    expect(points[0].time).toBe(0);
    expect(duration).toBeGreaterThan(11);
    for (const p of points) expect(new TextDecoder().decode(bytes.subarray(p.offset + 4, p.offset + 8))).toBe('moof');
    expect(reads.length).toBe(2); // mfro, then mfra
  });

  it('finds the last point at or before a time', async () => {
    const idx = await load('webm').index;
    const p = pointFor(idx, 9);
    expect(p!.time).toBeLessThanOrEqual(9);
    expect(idx.points.filter((q) => q.time <= 9).at(-1)).toEqual(p);
    expect(pointFor({ points: [], duration: NaN }, 3)).toBeNull();
  });
});
