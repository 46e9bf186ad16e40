// The player's decisions, away from the browser: how much to buffer before playing, which
// MIME type and codecs a stream's head declares, and the library's search.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { filterLibrary, kindOf } from '../../web/src/library-filter.ts';
import { sniffMedia } from '../../protocol/media/sniff.ts';
import { neededBufferSeconds } from '../../web/src/player/start-gate.ts';
import { makeVideo } from '../browser/media.ts';

describe('neededBufferSeconds', () => {
  const base = { duration: 100, size: 10_000_000 };
  it('needs only the floor when the download outruns the media', () => {
    expect(neededBufferSeconds({ ...base, throughput: 2e6, bitrate: 1e5 })).toBe(1);
  });
  it('needs D·(1 − r/b) with a margin when the download is slower', () => {
    expect(neededBufferSeconds({ ...base, throughput: 5e4, bitrate: 1e5 })).toBeCloseTo(1.25 * 100 * 0.5);
  });
  it('never more than the whole media, and waits while nothing is measured', () => {
    expect(neededBufferSeconds({ ...base, throughput: 1, bitrate: 1e5 })).toBe(100);
    expect(neededBufferSeconds({ ...base, throughput: 0, bitrate: 1e5 })).toBe(Infinity);
  });
  it('estimates the duration from the size when the container does not say', () => {
    expect(neededBufferSeconds({ duration: NaN, size: 1e6, throughput: 5e4, bitrate: 1e5 })).toBeCloseTo(1.25 * 10 * 0.5);
  });
});

describe('sniffMedia', () => {
  const head = (f: Parameters<typeof makeVideo>[0]) => new Uint8Array(readFileSync(makeVideo(f, 2)).subarray(0, 64 * 1024));
  it('reads codecs from WebM and fragmented MP4 heads made by ffmpeg', () => {
    expect(sniffMedia(head('webm'))).toEqual({ container: 'webm', mime: 'video/webm; codecs="vp9,opus"', fragmented: true });
    expect(sniffMedia(head('fmp4'))).toMatchObject({ container: 'mp4', fragmented: true, mime: expect.stringMatching(/^video\/mp4; codecs="avc1\.[0-9a-f]{6},mp4a\.40\.2"$/) });
  });
  it('reports a plain MP4 (moov at the end) as not playable through MSE, and other bytes as unknown', () => {
    expect(sniffMedia(head('mp4'))).toMatchObject({ container: 'mp4', mime: null, fragmented: false });
    expect(sniffMedia(new TextEncoder().encode('hello world, not media'))).toEqual({ container: 'unknown', mime: null, fragmented: false });
  });
});

describe('filterLibrary', () => {
  const item = (name: string, type: string, size: number) => ({ id: name.padEnd(32, '0'), name, type, size, version: 1, chunkCount: 1, replicas: 2, committedAt: 0 });
  const items = [item('holiday.webm', 'video/webm', 5e6), item('song.mp3', 'audio/mpeg', 4e6), item('disk.iso', 'application/x-iso9660-image', 3e9)];
  it('matches every word in the name or type, the kind and the size band', () => {
    expect(filterLibrary(items, { text: 'HOLI', kind: 'all', size: 'any' }).map((i) => i.name)).toEqual(['holiday.webm']);
    expect(filterLibrary(items, { text: 'audio', kind: 'all', size: 'any' }).map((i) => i.name)).toEqual(['song.mp3']);
    expect(filterLibrary(items, { text: '', kind: 'other', size: 'huge' }).map((i) => i.name)).toEqual(['disk.iso']);
    expect(filterLibrary(items, { text: '', kind: 'all', size: 'small' })).toHaveLength(2);
    expect(kindOf('')).toBe('other');
  });
});
