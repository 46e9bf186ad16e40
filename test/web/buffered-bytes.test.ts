// What the chunk map marks as buffered: the SourceBuffer's time ranges turned into bytes through
// the seek index, clipped to what was appended, then into chunk indices.
import { describe, expect, it } from 'vitest';
import type { SeekPoint } from '../../protocol/media/media-index.ts';
import { bufferedBytes, chunksIn } from '../../web/src/player/buffered-bytes.ts';

// A 1 kB head, then a piece every 2 s, 10 kB each: 12 s of media in 61 000 bytes.
const seek: SeekPoint[] = [[0.007, 1000], [2, 11000], [4, 21000], [6, 31000], [8, 41000], [10, 51000]];
const size = 61_000;
const all: [number, number] = [0, size];

describe('bufferedBytes', () => {
  it('maps the whole media to every byte after the head (the init segment is parsed, not buffered)', () => {
    expect(bufferedBytes([[0, 12]], seek, size, all)).toEqual([[1000, size]]);
  });

  it('counts a partly buffered piece whole, up to what was appended', () => {
    expect(bufferedBytes([[0, 3.2]], seek, size, [0, 25_000])).toEqual([[1000, 21_000]]);
    expect(bufferedBytes([[0, 3.2]], seek, size, [0, 15_000])).toEqual([[1000, 15_000]]);
  });

  it('stops at a range that ends exactly where the next piece starts', () => {
    expect(bufferedBytes([[4, 8]], seek, size, all)).toEqual([[21_000, 41_000]]);
    expect(bufferedBytes([[4.0000001, 7.9999999]], seek, size, all)).toEqual([[21_000, 41_000]]);
  });

  it('follows eviction (the start moves up) and a seek (only the new stream was appended)', () => {
    expect(bufferedBytes([[6.02, 12]], seek, size, all)).toEqual([[31_000, size]]);
    expect(bufferedBytes([[8, 9.5]], seek, size, [41_000, 50_000])).toEqual([[41_000, 50_000]]);
  });

  it('keeps separate ranges apart and joins ranges that share a piece', () => {
    expect(bufferedBytes([[0, 2], [8, 10]], seek, size, all)).toEqual([[1000, 11_000], [41_000, 51_000]]);
    expect(bufferedBytes([[0, 2.5], [3, 4]], seek, size, all)).toEqual([[1000, 21_000]]);
  });

  it('finds nothing without an index, with nothing buffered, or before the first piece', () => {
    expect(bufferedBytes([[0, 12]], [], size, all)).toEqual([]);
    expect(bufferedBytes([], seek, size, all)).toEqual([]);
    expect(bufferedBytes([[0, 0.0005]], seek, size, all)).toEqual([]);
  });
});

describe('chunksIn', () => {
  const starts = [0, 16_384, 32_768, 49_152];
  it('gives each chunk holding a byte of the ranges once, ends exclusive', () => {
    expect(chunksIn([[1000, 20_000]], starts)).toEqual([0, 1]);
    expect(chunksIn([[16_384, 32_768]], starts)).toEqual([1]);
    expect(chunksIn([[1000, 17_000], [30_000, 40_000]], starts)).toEqual([0, 1, 2]);
    expect(chunksIn([[50_000, 61_000]], starts)).toEqual([3]);
    expect(chunksIn([], starts)).toEqual([]);
    expect(chunksIn([[0, 10]], [])).toEqual([]);
  });
});
