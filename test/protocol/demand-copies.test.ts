// A content's copies from its demand: how many, how fast they rise, from the head, and the
// hysteresis that keeps a demand near a threshold from adding and removing copies in turn.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { copiesFor, copiesWanted, decideCopies, type CopiesInput, type CopiesState } from '../../protocol/demand/copies.ts';
import { DEFAULT_DEMAND_POLICY as P } from '../../protocol/demand/policy.ts';

const MB = 1e6;
const MIN = 60_000;
const input = (over: Partial<CopiesInput>): CopiesInput => ({
  base: 3, ceiling: 40, chunkCount: 200, demand: { rate: 0, regions: {} }, unitEgress: 20 * MB,
  holdersHot: false, state: null, now: 1_000_000, policy: P, ...over,
});

describe('copies from demand', () => {
  it('asks for enough copies that each runs its node at no more than the high water', () => {
    // 0.7 × 20 MB/s = 14 MB/s a copy.
    expect(copiesWanted(41 * MB, 20 * MB, P)).toBe(3);
    expect(copiesWanted(42 * MB, 20 * MB, P)).toBe(3);
    expect(copiesWanted(42.1 * MB, 20 * MB, P)).toBe(4);
    expect(copiesWanted(0, 20 * MB, P)).toBe(0);
    expect(copiesWanted(5 * MB, 0, P)).toBe(0);
    const low = decideCopies(input({ demand: { rate: 30 * MB, regions: {} } }));
    expect(low.change).toBeNull();
    expect(low.state.current).toBe(3);
    const high = decideCopies(input({ demand: { rate: 70 * MB, regions: {} } }));
    expect(high.change).toBe('up');
    expect(high.state.current).toBe(5);
    expect(high.state.reason).toMatch(/demand 70 MB\/s over 3 copies' 42 MB\/s/);
  });

  it('sizes copies by the busiest chunk when that is measured', () => {
    // 200 MB/s over a content whose busiest chunk carries 30 MB/s: 3 copies of 14 MB/s suffice.
    expect(decideCopies(input({ demand: { rate: 200 * MB, regions: {}, chunkRate: 30 * MB } })).state.current).toBe(3);
    expect(decideCopies(input({ demand: { rate: 200 * MB, regions: {}, chunkRate: 60 * MB } })).state.current).toBe(5);
  });

  it('climbs by at most maxStep a decision to what the demand asks, and no further than the ceiling', () => {
    let state: CopiesState | null = null;
    const seen: number[] = [];
    for (let k = 0; k < 30; k++) {
      const r = decideCopies(input({ demand: { rate: 300 * MB, regions: {} }, ceiling: 20, state, now: k * MIN }));
      state = r.state;
      seen.push(state.current);
    }
    expect(seen.slice(0, 5)).toEqual([5, 7, 9, 11, 13]);
    expect(state!.current).toBe(20);
    // 300 / 14 → 22 wanted, but the ceiling holds.
    expect(Math.max(...seen)).toBe(20);
  });

  it('widens the span from the head: first the head, then twice as far on each raise, up to the whole content', () => {
    let state: CopiesState | null = null;
    const spans: number[] = [];
    for (let k = 0; k < 6; k++) {
      state = decideCopies(input({ demand: { rate: 1000 * MB, regions: {} }, chunkCount: 100, ceiling: 64, state, now: k * MIN })).state;
      spans.push(state.span);
    }
    expect(spans).toEqual([16, 32, 64, 100, 100, 100]);
    const head = decideCopies(input({ demand: { rate: 60 * MB, regions: {} }, chunkCount: 100 })).state;
    expect(copiesFor(0, 3, head)).toBe(head.current);
    expect(copiesFor(15, 3, head)).toBe(head.current);
    expect(copiesFor(16, 3, head)).toBe(3);
    expect(copiesFor(99, 3, null)).toBe(3);
    // A content shorter than the head gets its extra copies on every chunk at once.
    expect(decideCopies(input({ demand: { rate: 60 * MB, regions: {} }, chunkCount: 5 })).state.span).toBe(5);
  });

  it('at the ceiling, a demand still over the copies widens the span instead', () => {
    let state: CopiesState | null = null;
    for (let k = 0; k < 4; k++) state = decideCopies(input({ demand: { rate: 500 * MB, regions: {} }, ceiling: 5, state, now: k * MIN })).state;
    expect(state!.current).toBe(5);
    expect(state!.span).toBe(128);
  });

  it('adds a copy when a holder is hot, even if the content alone would not ask for one', () => {
    const r = decideCopies(input({ demand: { rate: 10 * MB, regions: {} }, holdersHot: true }));
    expect(r.change).toBe('up');
    expect(r.state.current).toBe(4);
    expect(r.state.reason).toMatch(/holder is hot/);
  });

  it('lowers only after a cool-down under the low water, to what the demand asks, never below base', () => {
    let r = decideCopies(input({ demand: { rate: 80 * MB, regions: {} }, now: 0 }));
    r = decideCopies(input({ demand: { rate: 80 * MB, regions: {} }, now: MIN, state: r.state }));
    expect(r.state.current).toBe(6);
    // Demand falls away: nothing for the cool-down, then down to base in one step.
    for (let t = 2; t < 11; t++) {
      r = decideCopies(input({ demand: { rate: 1 * MB, regions: {} }, now: t * MIN, state: r.state }));
      expect(r.change).toBeNull();
      expect(r.state.current).toBe(6);
    }
    r = decideCopies(input({ demand: { rate: 1 * MB, regions: {} }, now: 11 * MIN, state: r.state }));
    expect(r.change).toBe('down');
    expect(r.state).toMatchObject({ current: 3, span: 0 });
    expect(r.state.reason).toMatch(/cooled for 10 min/);
  });

  it('lowers at most once per cool-down, even when the demand keeps falling', () => {
    let r: ReturnType<typeof decideCopies> | null = null;
    for (let t = 0; t < 5; t++) r = decideCopies(input({ demand: { rate: 150 * MB, regions: {} }, now: t * MIN, state: r?.state ?? null }));
    expect(r!.state.current).toBe(11);
    // 50 MB/s is under the low water of 11 copies (0.35 × 11 × 20 = 77 MB/s) and asks for 4 of 14 MB/s.
    r = decideCopies(input({ demand: { rate: 50 * MB, regions: {} }, now: 15 * MIN, state: r!.state }));
    expect(r).toMatchObject({ change: 'down', state: { current: 4 } });
    const downAt = 15 * MIN;
    for (let t = 16; t < 25; t++) {
      r = decideCopies(input({ demand: { rate: 0, regions: {} }, now: t * MIN, state: r!.state }));
      expect(r.change).toBeNull();
    }
    r = decideCopies(input({ demand: { rate: 0, regions: {} }, now: downAt + P.coolDownMs, state: r!.state }));
    expect(r).toMatchObject({ change: 'down', state: { current: 3, span: 0 } });
  });

  it('a demand that stays between the waters of its copies changes nothing, however it moves', () => {
    const start = decideCopies(input({ demand: { rate: 95 * MB, regions: {} }, base: 2, ceiling: 12, now: 0 })).state;
    expect(start.current).toBe(4);
    fc.assert(fc.property(fc.array(fc.tuple(fc.double({ min: 0, max: 1, noNaN: true }), fc.integer({ min: 1, max: 20 * MIN })), { maxLength: 60 }), (steps) => {
      let state = start;
      let now = 0;
      for (const [x, dt] of steps) {
        now += dt;
        // Between lowWater × 4 copies (28 MB/s) and highWater × 4 copies (56 MB/s).
        const rate = (P.lowWater + x * (P.highWater - P.lowWater)) * 20 * MB * 4;
        const r = decideCopies(input({ demand: { rate, regions: {} }, base: 2, ceiling: 12, now, state }));
        if (r.change !== null) return false;
        state = r.state;
      }
      return state.current === 4;
    }), { numRuns: 200 });
  });

  it('never flaps: any demand, at most one lowering per cool-down, within base and ceiling, raises bounded', () => {
    const level = fc.oneof(fc.constant(0), fc.double({ min: 0, max: 400, noNaN: true }), fc.constantFrom(0.35 * 14, 0.7 * 14, 14, 28, 56));
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 4 }), fc.integer({ min: 0, max: 30 }), fc.integer({ min: 1, max: 400 }), fc.boolean(),
      fc.array(fc.tuple(level, fc.integer({ min: 0, max: 15 * MIN }), fc.boolean()), { minLength: 1, maxLength: 80 }),
      (base, room, chunkCount, hotSometimes, steps) => {
        const ceiling = base + room;
        let state: CopiesState | null = null;
        let now = 5_000;
        let lastDown = -Infinity;
        for (const [mbps, dt, hot] of steps) {
          now += dt;
          const before = state?.current ?? base;
          const r = decideCopies(input({ base, ceiling, chunkCount, demand: { rate: mbps * MB, regions: {} }, holdersHot: hotSometimes && hot, state, now }));
          const s = r.state;
          if (s.current < base || s.current > ceiling) return false;
          if (s.current - before > P.maxStep) return false;
          if (s.span < 0 || s.span > chunkCount || (s.current === base) !== (s.span === 0)) return false;
          if ((r.change === 'up') !== (s.current > before || s.span > (state?.span ?? 0))) return false;
          if (r.change === 'down') {
            if (now - lastDown < P.coolDownMs || s.current >= before) return false;
            lastDown = now;
          } else if (s.current < before) return false;
          state = s;
        }
        return true;
      }), { numRuns: 300 });
  });

  it('is deterministic', () => {
    const i = input({ demand: { rate: 123 * MB, regions: { a: 1 } }, state: { current: 4, span: 16, raisedAt: 0, warmAt: 0, reason: '' } });
    expect(decideCopies(i)).toEqual(decideCopies(structuredClone(i)));
  });
});
