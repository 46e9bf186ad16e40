import { describe, expect, it } from 'vitest';
import { MAX_CHUNK, MIN_CHUNK, planChunks, spanAt, type ChunkSpan, type Chunking } from '../../protocol/split.ts';
import { cryptoLike } from './fixtures.ts';

const cs = MIN_CHUNK;
const regular: Chunking = { mode: 'regular', size: cs };
const irregular = (seed: string, min = MIN_CHUNK, max = 4 * MIN_CHUNK): Chunking => ({ mode: 'irregular', min, max, seed });
const SEED_A = '00112233445566778899aabbccddeeff';
const SEED_B = 'ffeeddccbbaa99887766554433221100';

/** Spans are numbered, contiguous from 0 and cover exactly `size`. */
function expectCovers(spans: ChunkSpan[], size: number) {
  let offset = 0;
  let bad: ChunkSpan | undefined;
  for (let i = 0; i < spans.length && !bad; i++) {
    const s = spans[i];
    if (s.index !== i || s.offset !== offset || s.length <= 0) bad = s;
    offset += s.length;
  }
  expect(bad).toBeUndefined();
  expect(offset).toBe(size);
}

describe('regular splitting', () => {
  it.each([
    [0, []],
    [1, [1]],
    [cs - 1, [cs - 1]],
    [cs, [cs]],
    [cs + 1, [cs, 1]],
    [3 * cs, [cs, cs, cs]],
  ])('size %i', async (size, lengths) => {
    const spans = await planChunks(cryptoLike, size, regular);
    expect(spans.map((s) => s.length)).toEqual(lengths);
    expectCovers(spans, size);
  });

  it('splits a large file into full chunks and a short tail', async () => {
    const size = 2 ** 38 + 12345; // 256 GiB and a bit, with the largest chunk
    const spans = await planChunks(cryptoLike, size, { mode: 'regular', size: MAX_CHUNK });
    expect(spans).toHaveLength(2 ** 38 / MAX_CHUNK + 1);
    expect(spans.slice(0, -1).every((s) => s.length === MAX_CHUNK)).toBe(true);
    expect(spans[spans.length - 1].length).toBe(12345);
    expectCovers(spans, size);
  });
});

describe('irregular splitting', () => {
  it('is a pure function of size and seed', async () => {
    const size = 50 * cs + 17;
    expect(await planChunks(cryptoLike, size, irregular(SEED_A))).toEqual(await planChunks(cryptoLike, size, irregular(SEED_A)));
  });

  it.each([0, 1, cs - 1, cs, cs + 1, 4 * cs, 4 * cs + 1, 200 * cs + 999])('size %i: lengths within [min, max] except the last', async (size) => {
    const c = irregular(SEED_A) as Extract<Chunking, { mode: 'irregular' }>;
    const spans = await planChunks(cryptoLike, size, c);
    expectCovers(spans, size);
    for (const s of spans.slice(0, -1)) {
      expect(s.length).toBeGreaterThanOrEqual(c.min);
      expect(s.length).toBeLessThanOrEqual(c.max);
    }
    if (spans.length) expect(spans[spans.length - 1].length).toBeLessThanOrEqual(c.max);
  });

  it('draws varied lengths, and different seeds cut differently', async () => {
    const size = 300 * cs;
    const a = await planChunks(cryptoLike, size, irregular(SEED_A));
    const b = await planChunks(cryptoLike, size, irregular(SEED_B));
    expect(a.map((s) => s.length)).not.toEqual(b.map((s) => s.length));
    expect(new Set(a.map((s) => s.length)).size).toBeGreaterThan(a.length / 2);
    // over many draws the mean sits near the middle of [min, max]
    const mean = a.slice(0, -1).reduce((n, s) => n + s.length, 0) / (a.length - 1);
    expect(mean / cs).toBeGreaterThan(2.2);
    expect(mean / cs).toBeLessThan(2.8);
  });

  it('reaches both bounds when they are close', async () => {
    const spans = await planChunks(cryptoLike, 2000 * cs, irregular(SEED_B, cs, cs + 1));
    const lengths = new Set(spans.slice(0, -1).map((s) => s.length));
    expect(lengths).toEqual(new Set([cs, cs + 1]));
  });
});

describe('spanAt', () => {
  it('finds the span holding an offset', async () => {
    const spans = await planChunks(cryptoLike, 20 * cs + 5, irregular(SEED_A));
    for (const s of spans) {
      expect(spanAt(spans, s.offset)).toBe(s.index);
      expect(spanAt(spans, s.offset + s.length - 1)).toBe(s.index);
    }
  });

  it('refuses an empty plan or a negative offset', () => {
    expect(() => spanAt([], 0)).toThrow(expect.objectContaining({ code: 'range_not_satisfiable' }));
    expect(() => spanAt([{ index: 0, offset: 0, length: 1 }], -1)).toThrow(expect.objectContaining({ code: 'range_not_satisfiable' }));
  });
});
