import { describe, expect, it } from 'vitest';
import { exact, fromHex } from '../../protocol/bytes.ts';
import { MAX_FILE_BYTES } from '../../protocol/api.ts';
import { Chunking, chunkPlan, IRREGULAR_BLOCK, MAX_CHUNK, MIN_CHUNK, spanAt, type ChunkSpan } from '../../protocol/split.ts';
import { cryptoLike } from './fixtures.ts';

const cs = MIN_CHUNK;
const regular: Chunking = { mode: 'regular', size: cs };
const irregular = (seed: string, min = MIN_CHUNK, max = 4 * MIN_CHUNK): Chunking => ({ mode: 'irregular', min, max, seed, block: IRREGULAR_BLOCK });
const sequence = (seed: string, min = MIN_CHUNK, max = 4 * MIN_CHUNK): Chunking => ({ mode: 'irregular', min, max, seed });
const SEED_A = '00112233445566778899aabbccddeeff';
const SEED_B = 'ffeeddccbbaa99887766554433221100';

async function planOf(size: number, c: Chunking): Promise<ChunkSpan[]> {
  const out: ChunkSpan[] = [];
  for await (const s of chunkPlan(cryptoLike, size, c).spans()) out.push(s);
  return out;
}

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

/** Every way of asking a plan agrees: the walk, random access, the count, and a walk from the middle. */
async function expectConsistent(size: number, c: Chunking): Promise<ChunkSpan[]> {
  const plan = chunkPlan(cryptoLike, size, c);
  const spans = await planOf(size, c);
  expectCovers(spans, size);
  expect(await plan.count()).toBe(spans.length);
  for (const i of [0, 1, spans.length >> 1, spans.length - 2, spans.length - 1]) {
    if (i >= 0 && i < spans.length) expect(await plan.span(i)).toEqual(spans[i]);
  }
  expect(await plan.span(spans.length)).toBeNull();
  expect(await plan.span(-1)).toBeNull();
  expect(await plan.span(1.5)).toBeNull();
  const from = spans.length >> 1;
  const rest: ChunkSpan[] = [];
  for await (const s of plan.spans(from)) rest.push(s);
  expect(rest).toEqual(spans.slice(from));
  return spans;
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
    const spans = await expectConsistent(size, regular);
    expect(spans.map((s) => s.length)).toEqual(lengths);
  });

  it('is arithmetic: the largest file in the smallest chunks, without walking it', async () => {
    const size = MAX_FILE_BYTES - 12345;
    const plan = chunkPlan(cryptoLike, size, regular);
    const n = Math.ceil(size / cs);
    expect(await plan.count()).toBe(n);
    expect(await plan.span(n - 1)).toEqual({ index: n - 1, offset: (n - 1) * cs, length: cs - 12345 });
    expect(await plan.span(n - 2)).toEqual({ index: n - 2, offset: (n - 2) * cs, length: cs });
    expect(await plan.span(n)).toBeNull();
  });

  it('splits a large file into full chunks and a short tail', async () => {
    const size = 2 ** 34 + 12345; // 16 GiB and a bit, with the largest chunk
    const spans = await expectConsistent(size, { mode: 'regular', size: MAX_CHUNK });
    expect(spans).toHaveLength(2 ** 34 / MAX_CHUNK + 1);
    expect(spans.slice(0, -1).every((s) => s.length === MAX_CHUNK)).toBe(true);
    expect(spans[spans.length - 1].length).toBe(12345);
  });
});

describe('irregular splitting', () => {
  it('is a pure function of size and seed', async () => {
    const size = 50 * cs + 17;
    expect(await planOf(size, irregular(SEED_A))).toEqual(await planOf(size, irregular(SEED_A)));
  });

  it.each([0, 1, cs - 1, cs, cs + 1, 4 * cs, 4 * cs + 1, 200 * cs + 999, 2000 * cs + 3])('size %i: lengths within [min, max] except the last', async (size) => {
    const c = irregular(SEED_A) as Extract<Chunking, { mode: 'irregular' }>;
    const spans = await expectConsistent(size, c);
    for (const s of spans.slice(0, -1)) {
      expect(s.length).toBeGreaterThanOrEqual(c.min);
      expect(s.length).toBeLessThanOrEqual(c.max);
    }
    if (spans.length) expect(spans[spans.length - 1].length).toBeLessThanOrEqual(c.max);
  });

  it('ends every block at the same place, so chunk i needs only its own block', async () => {
    const c = irregular(SEED_B) as Extract<Chunking, { mode: 'irregular' }>;
    const covers = (IRREGULAR_BLOCK / 2) * (c.min + c.max);
    const spans = await expectConsistent(3 * covers + 5, c);
    for (const k of [1, 2, 3]) expect(spans[k * IRREGULAR_BLOCK].offset).toBe(k * covers);
    expect(spans).toHaveLength(3 * IRREGULAR_BLOCK + 1);
  });

  it('reaches chunks of the largest file in the smallest lengths without walking it', async () => {
    const c = irregular(SEED_A, MIN_CHUNK, MIN_CHUNK + 1000);
    const plan = chunkPlan(cryptoLike, MAX_FILE_BYTES, c);
    const n = await plan.count();
    expect(n).toBeGreaterThan(MAX_FILE_BYTES / (MIN_CHUNK + 1000));
    const last = (await plan.span(n - 1))!;
    expect(last.offset + last.length).toBe(MAX_FILE_BYTES);
    expect(await plan.span(n)).toBeNull();
    // A chunk deep inside starts where the one before it ends.
    const i = Math.floor(n / 3) + 7;
    const [a, b] = [(await plan.span(i - 1))!, (await plan.span(i))!];
    expect(a.offset + a.length).toBe(b.offset);
  });

  it('draws varied lengths, and different seeds cut differently', async () => {
    const size = 300 * cs;
    const a = await planOf(size, irregular(SEED_A));
    const b = await planOf(size, irregular(SEED_B));
    expect(a.map((s) => s.length)).not.toEqual(b.map((s) => s.length));
    expect(new Set(a.map((s) => s.length)).size).toBeGreaterThan(a.length / 2);
    // over many draws the mean sits near the middle of [min, max]
    const mean = a.slice(0, -1).reduce((n, s) => n + s.length, 0) / (a.length - 1);
    expect(mean / cs).toBeGreaterThan(2.2);
    expect(mean / cs).toBeLessThan(2.8);
    // and a pair's partner is not simply the next chunk
    const sums = a.slice(0, 100).map((s, i) => (i % 2 === 0 ? s.length + a[i + 1].length : 0)).filter((x) => x > 0);
    expect(new Set(sums).size).toBeGreaterThan(1);
  });

  it('reaches both bounds when they are close', async () => {
    const spans = await planOf(2000 * cs, irregular(SEED_B, cs, cs + 1));
    const lengths = new Set(spans.slice(0, -1).map((s) => s.length));
    expect(lengths).toEqual(new Set([cs, cs + 1]));
  });

  it('rejects a block size that is odd, zero or too large', () => {
    for (const block of [0, 3, 8192]) {
      expect(Chunking.safeParse({ mode: 'irregular', min: cs, max: 2 * cs, seed: SEED_A, block }).success).toBe(false);
    }
  });
});

describe('irregular plans made before blocks', () => {
  /** The plan as it was first cut: one keystream of ceil(size / min) + 1 words from counter 0. */
  async function firstCut(size: number, min: number, max: number, seed: string): Promise<ChunkSpan[]> {
    const count = Math.ceil(size / min) + 1;
    const key = await cryptoLike.subtle.importKey('raw', exact(fromHex(seed)), 'AES-CTR', false, ['encrypt']);
    const stream = new DataView(await cryptoLike.subtle.encrypt({ name: 'AES-CTR', counter: new Uint8Array(16), length: 64 }, key, new Uint8Array(count * 4)));
    const spans: ChunkSpan[] = [];
    for (let i = 0, offset = 0; offset < size; i++) {
      const length = Math.min(min + (stream.getUint32(i * 4) % (max - min + 1)), size - offset);
      spans.push({ index: i, offset, length });
      offset += length;
    }
    return spans;
  }

  it.each([0, 1, 5 * cs + 3, 9000 * cs + 17])('size %i: cut exactly as before, read in windows', async (size) => {
    const spans = await expectConsistent(size, sequence(SEED_A));
    expect(spans).toEqual(await firstCut(size, MIN_CHUNK, 4 * MIN_CHUNK, SEED_A));
  });
});

describe('spanAt', () => {
  it('finds the span holding an offset', async () => {
    const spans = await planOf(20 * cs + 5, irregular(SEED_A));
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
