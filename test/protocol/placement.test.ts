import { describe, expect, it } from 'vitest';
import { placeKey, type PlacementNode } from '../../protocol/placement.ts';

const KEYS = Array.from({ length: 10_000 }, (_, i) => `chunk-${i.toString(16).padStart(8, '0')}`);
const nodes = (weights: number[]): PlacementNode[] => weights.map((weight, i) => ({ id: `node-${i + 1}`, weight }));

function firstChoiceShares(ns: PlacementNode[]): Map<string, number> {
  const count = new Map<string, number>();
  for (const k of KEYS) {
    const [first] = placeKey(k, ns, 1);
    count.set(first, (count.get(first) ?? 0) + 1);
  }
  return new Map([...count].map(([id, n]) => [id, n / KEYS.length]));
}

function expectShares(ns: PlacementNode[]) {
  const total = ns.reduce((n, x) => n + x.weight, 0);
  const shares = firstChoiceShares(ns);
  for (const n of ns) {
    const want = n.weight / total;
    expect(Math.abs((shares.get(n.id) ?? 0) - want) / want, `${n.id}: ${shares.get(n.id)} vs ${want}`).toBeLessThan(0.1);
  }
}

describe('weighted rendezvous placement', () => {
  it('picks distinct nodes, best first, deterministically', () => {
    const ns = nodes([1, 1, 1, 1, 1]);
    for (const k of KEYS.slice(0, 500)) {
      const p = placeKey(k, ns, 3);
      expect(p).toHaveLength(3);
      expect(new Set(p).size).toBe(3);
      expect(placeKey(k, [...ns].reverse(), 3)).toEqual(p);
      expect(placeKey(k, ns, 1)).toEqual(p.slice(0, 1));
    }
  });

  it('returns every eligible node when asked for more replicas than nodes, skipping weight 0', () => {
    const p = placeKey('k', [{ id: 'a', weight: 1 }, { id: 'b', weight: 0 }, { id: 'c', weight: 2 }], 5);
    expect(p.sort()).toEqual(['a', 'c']);
    expect(placeKey('k', [], 2)).toEqual([]);
  });

  it('spreads 10k keys evenly over equal weights', () => expectShares(nodes([1, 1, 1, 1])));

  it('spreads 10k keys in proportion to unequal weights', () => {
    expectShares(nodes([1, 2, 3, 4]));
    expectShares(nodes([5, 1, 1, 3, 10]));
  });

  it('adding a fifth node moves about a fifth of the keys, all of them to the new node', () => {
    const four = nodes([1, 1, 1, 1]);
    const five = nodes([1, 1, 1, 1, 1]);
    let moved = 0;
    for (const k of KEYS) {
      const before = placeKey(k, four, 1)[0];
      const after = placeKey(k, five, 1)[0];
      if (before !== after) {
        moved++;
        expect(after).toBe('node-5');
      }
    }
    expect(Math.abs(moved / KEYS.length - 0.2) / 0.2).toBeLessThan(0.1);
  });

  it('adding a node changes at most one member of each replica set, to the new node', () => {
    const four = nodes([1, 2, 1, 1]);
    const five = [...four, { id: 'node-new', weight: 2 }];
    for (const k of KEYS.slice(0, 2000)) {
      const before = new Set(placeKey(k, four, 2));
      const added = placeKey(k, five, 2).filter((n) => !before.has(n));
      expect(added.length).toBeLessThanOrEqual(1);
      if (added.length) expect(added[0]).toBe('node-new');
    }
  });

  it('removing a node moves only its own keys', () => {
    const five = nodes([1, 1, 1, 1, 1]);
    const four = five.filter((n) => n.id !== 'node-3');
    for (const k of KEYS.slice(0, 2000)) {
      const before = placeKey(k, five, 1)[0];
      if (before !== 'node-3') expect(placeKey(k, four, 1)[0]).toBe(before);
    }
  });
});
