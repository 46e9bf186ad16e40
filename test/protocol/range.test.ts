import { describe, expect, it } from 'vitest';
import { parseRange } from '../../protocol/range.ts';

const size = 1000;
const code = (header: string, n = size) => {
  try {
    parseRange(header, n);
  } catch (e) {
    return (e as { code: string }).code;
  }
  return 'ok';
};

describe('parseRange', () => {
  it('returns null without a Range header', () => {
    expect(parseRange(null, size)).toBeNull();
    expect(parseRange(undefined, size)).toBeNull();
    expect(parseRange('', size)).toBeNull();
  });

  it.each([
    ['bytes=0-0', 0, 0],
    ['bytes=0-499', 0, 499],
    ['bytes=500-999', 500, 999],
    ['bytes=500-', 500, 999],
    ['bytes=0-', 0, 999],
    ['bytes=999-', 999, 999],
    ['bytes=990-5000', 990, 999], // end past the size is clamped
    ['bytes=-1', 999, 999],
    ['bytes=-100', 900, 999],
    ['bytes=-1000', 0, 999],
    ['bytes=-5000', 0, 999], // suffix longer than the content: all of it
    [' bytes=1-2 ', 1, 2],
    ['Bytes=1-2', 1, 2], // the range unit is case-insensitive (RFC 9110 §14.1)
    ['bytes=0-18446744073709551615', 0, 999], // huge last-pos: clamped, not refused
  ])('%s', (header, start, end) => {
    expect(parseRange(header, size)).toEqual({ start, end });
  });

  it.each([
    ['bytes=1000-'],
    ['bytes=1000-1001'],
    ['bytes=5000-6000'],
    ['bytes=-0'],
    ['bytes=18446744073709551615-'],
  ])('416 for %s', (header) => {
    expect(code(header)).toBe('range_not_satisfiable');
  });

  it('416 for any range of empty content, with the size in the details', () => {
    expect(code('bytes=0-', 0)).toBe('range_not_satisfiable');
    expect(code('bytes=-5', 0)).toBe('range_not_satisfiable');
    try {
      parseRange('bytes=2000-', size);
    } catch (e) {
      expect((e as { status: number; details: unknown }).status).toBe(416);
      expect((e as { details: unknown }).details).toEqual({ size });
    }
  });

  it.each([
    ['bytes='], ['bytes=-'], ['bytes=abc'], ['bytes=1-2-3'], ['items=0-1'], ['0-1'], ['bytes 0-1'],
    ['bytes=0x10-20'], ['bytes=1.5-2'], ['bytes=+1-2'], ['bytes=--1'],
  ])('400 for malformed %s', (header) => {
    expect(code(header)).toBe('bad_request');
  });

  it('400 for a reversed range', () => {
    expect(code('bytes=5-3')).toBe('bad_request');
  });

  it('400 for multiple ranges, which are not offered', () => {
    expect(code('bytes=0-1,5-6')).toBe('bad_request');
    expect(code('bytes=0-1, 5-6')).toBe('bad_request');
  });
});
