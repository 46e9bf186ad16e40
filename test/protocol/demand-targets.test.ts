// Where demand copies go: never on a hot, ineligible or base node; near the viewers in
// proportion to their regions; mirrors first; the same nodes from one decision to the next.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { nodeHot, DEFAULT_DEMAND_POLICY as P } from '../../protocol/demand/policy.ts';
import { demandTargets, regionQuotas, type LoadedNode } from '../../protocol/demand/targets.ts';
import { eligible } from '../../protocol/lifecycle/target.ts';

const REGIONS = ['a', 'b', 'c', 'd'];
const node = (id: string, region: string, over: Partial<LoadedNode> = {}): LoadedNode => ({
  id, region, weight: 1, grade: 1, state: 'active', lost: false, full: false, egress: 100, load: 10, hot: false, mirror: false, ...over,
});
const many = (perRegion: number) => REGIONS.flatMap((r) => Array.from({ length: perRegion }, (_, i) => node(`${r}${i}`, r)));
const key = (i: number) => `content-${i}:chunk-0`;

/** A network with some of everything a demand copy must avoid. */
const arbNodes = fc.array(fc.record({
  region: fc.constantFrom(...REGIONS),
  load: fc.integer({ min: 0, max: 120 }),
  hot: fc.boolean(),
  state: fc.constantFrom('active', 'active', 'active', 'joining', 'draining', 'down', 'retired'),
  lost: fc.boolean(), full: fc.boolean(), grade: fc.integer({ min: 0, max: 2 }), mirror: fc.boolean(),
}), { minLength: 1, maxLength: 40 }).map((rs) => rs.map((r, i) => node(`n${i}`, r.region, { ...r, state: r.state as LoadedNode['state'], lost: r.state === 'down' && r.lost })));
const arbShares = fc.dictionary(fc.constantFrom(...REGIONS), fc.integer({ min: 0, max: 10 })).map((d) => {
  const t = Object.values(d).reduce((a, b) => a + b, 0);
  return Object.fromEntries(Object.entries(d).map(([r, v]) => [r, t ? v / t : 0]));
});

describe('regionQuotas', () => {
  it('splits seats by largest remainder and gives out exactly the seats', () => {
    expect(Object.fromEntries(regionQuotas({ a: 0.5, b: 0.3, c: 0.2 }, 7))).toEqual({ a: 4, b: 2, c: 1 });
    expect(Object.fromEntries(regionQuotas({ a: 0.34, b: 0.33, c: 0.33 }, 2))).toEqual({ a: 1, b: 1, c: 0 });
    expect(regionQuotas({}, 5).size).toBe(0);
    fc.assert(fc.property(arbShares, fc.integer({ min: 0, max: 50 }), (shares, seats) => {
      const q = regionQuotas(shares, seats);
      const sum = [...q.values()].reduce((a, b) => a + b, 0);
      const any = Object.values(shares).some((s) => s > 0);
      return sum === (any ? seats : 0) && [...q].every(([r, n]) => Math.abs(n - seats * shares[r]) < 1);
    }), { numRuns: 200 });
  });
});

describe('demand targets', () => {
  it('never picks a hot, ineligible or base node, nor one without spare egress, and respects extra', () => {
    fc.assert(fc.property(arbNodes, arbShares, fc.integer({ min: 0, max: 12 }), fc.integer({ min: 0, max: 99 }), fc.integer({ min: 0, max: 3 }),
      (nodes, shares, extra, k, nb) => {
        const base = nodes.slice(0, nb).map((n) => n.id);
        const holding = new Set(nodes.filter((_, i) => i % 3 === 0).map((n) => n.id));
        const t = demandTargets(key(k), base, nodes, extra, { rate: 1, regions: shares }, { minGrade: 1, holding });
        if (t.length > extra || new Set(t).size !== t.length) return false;
        const byId = new Map(nodes.map((n) => [n.id, n]));
        for (const id of t) {
          const n = byId.get(id)!;
          if (n.hot || base.includes(id) || !eligible(n, { replicas: 0, minGrade: 1, holding })) return false;
          if (!holding.has(id) && (n.load >= n.egress || !(n.state === 'active' || n.state === 'joining'))) return false;
        }
        // Fewer only when no other node qualifies.
        const fit = nodes.filter((n) => !n.hot && !base.includes(n.id) && eligible(n, { replicas: 0, minGrade: 1, holding })
          && (holding.has(n.id) || (n.load < n.egress && (n.state === 'active' || n.state === 'joining'))));
        return t.length === Math.min(extra, fit.length);
      }), { numRuns: 300 });
  });

  it('follows the regions of the viewers', () => {
    const nodes = many(10);
    for (let k = 0; k < 50; k++) {
      const t = demandTargets(key(k), [], nodes, 10, { rate: 1, regions: { a: 0.6, b: 0.3, c: 0.1 } }, { minGrade: 0 });
      const count = (r: string) => t.filter((id) => id[0] === r).length;
      expect([count('a'), count('b'), count('c'), count('d')]).toEqual([6, 3, 1, 0]);
      // The busiest region first.
      expect(t[0][0]).toBe('a');
    }
  });

  it('goes elsewhere when a region has too few nodes, and spreads by rank when the regions are unknown', () => {
    const nodes = [node('a0', 'a'), ...many(5).filter((n) => n.region !== 'a')];
    const t = demandTargets(key(1), [], nodes, 4, { rate: 1, regions: { a: 1 } }, { minGrade: 0 });
    expect(t).toHaveLength(4);
    expect(t[0]).toBe('a0');
    const seen = new Set<string>();
    for (let k = 0; k < 200; k++) for (const id of demandTargets(key(k), [], many(5), 2, { rate: 1, regions: {} }, { minGrade: 0 })) seen.add(id);
    expect(seen.size).toBe(20);
  });

  it('puts woken mirrors first within a region', () => {
    const nodes = [...many(6), node('am', 'a', { mirror: true }), node('bm', 'b', { mirror: true })];
    for (let k = 0; k < 30; k++) {
      const t = demandTargets(key(k), [], nodes, 4, { rate: 1, regions: { a: 0.5, b: 0.5 } }, { minGrade: 0 });
      expect(t).toContain('am');
      expect(t).toContain('bm');
    }
  });

  it('is stable while loads move within the hysteresis band, and holders keep their place', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 999 }), fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 24, maxLength: 24 }),
      fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 24, maxLength: 24 }), (k, l1, l2) => {
        // Loads anywhere between the waters: hot or not stays as it was.
        const band = (x: number) => (P.lowWater + x * (P.highWater - P.lowWater)) * 100;
        const wasHot = (i: number) => i % 5 === 0;
        const at = (loads: number[]) => many(6).map((n, i) => ({ ...n, load: band(loads[i]), hot: nodeHot(wasHot(i), band(loads[i]), 100, P) }));
        const demand = { rate: 1, regions: { a: 0.5, b: 0.25, c: 0.25 } };
        const first = demandTargets(key(k), ['d0'], at(l1), 8, demand, { minGrade: 0 });
        const again = demandTargets(key(k), ['d0'], at(l2), 8, demand, { minGrade: 0, holding: new Set(first) });
        return first.length === 8 && JSON.stringify(first) === JSON.stringify(again);
      }), { numRuns: 200 });
  });

  it('keeps holders over better-ranked nodes, and lets a holder that turns hot go', () => {
    const nodes = many(8);
    const demand = { rate: 1, regions: { a: 1 } };
    const ranked = demandTargets(key(7), [], nodes, 2, demand, { minGrade: 0 });
    const others = nodes.filter((n) => n.region === 'a' && !ranked.includes(n.id)).map((n) => n.id);
    const holding = new Set(others.slice(0, 2));
    expect(new Set(demandTargets(key(7), [], nodes, 2, demand, { minGrade: 0, holding }))).toEqual(holding);
    const hot = nodes.map((n) => (n.id === others[0] ? { ...n, hot: true } : n));
    const t = demandTargets(key(7), [], hot, 2, demand, { minGrade: 0, holding });
    expect(t).toContain(others[1]);
    expect(t).not.toContain(others[0]);
  });
});

describe('nodeHot', () => {
  it('turns hot above the high water, cool below the low water, and keeps its state between', () => {
    expect(nodeHot(false, 71, 100, P)).toBe(true);
    expect(nodeHot(false, 69, 100, P)).toBe(false);
    expect(nodeHot(true, 69, 100, P)).toBe(true);
    expect(nodeHot(true, 36, 100, P)).toBe(true);
    expect(nodeHot(true, 34, 100, P)).toBe(false);
    expect(nodeHot(true, 500, 0, P)).toBe(true);
    expect(nodeHot(false, 500, 0, P)).toBe(false);
  });
});
