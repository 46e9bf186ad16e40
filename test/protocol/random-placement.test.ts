import { describe, expect, it } from 'vitest';
import { placeRandom, uniformInt } from '../../protocol/placement.ts';
import { cryptoLike } from './fixtures.ts';

describe('random placement', () => {
  const nodes = ['a', 'b', 'c', 'd'].map((id) => ({ id, weight: 1 }));
  const rng = (a: Uint32Array) => cryptoLike.getRandomValues(a);

  it('draws distinct eligible nodes, keeps the ones a chunk has, and spreads evenly', () => {
    const counts = new Map<string, number>();
    for (let i = 0; i < 4000; i++) {
      const got = placeRandom(nodes, 2, (n) => uniformInt(rng, n));
      expect(new Set(got).size).toBe(2);
      for (const g of got) counts.set(g, (counts.get(g) ?? 0) + 1);
    }
    for (const n of counts.values()) expect(Math.abs(n - 2000)).toBeLessThan(250); // ~6 sigma
    expect(placeRandom(nodes, 2, () => 0, ['c'])[0]).toBe('c');
    expect(placeRandom([...nodes, { id: 'z', weight: 0 }], 9, () => 0)).toHaveLength(4);
  });

  it('draws uniform integers without modulo bias', () => {
    let calls = 0;
    const fixed = (a: Uint32Array) => { a[0] = calls++ === 0 ? 0xffffffff : 7; return a; };
    expect(uniformInt(fixed, 3)).toBe(1); // 0xffffffff is rejected for n = 3, 7 % 3 = 1
    expect(() => uniformInt(rng, 0)).toThrow(RangeError);
  });
});
