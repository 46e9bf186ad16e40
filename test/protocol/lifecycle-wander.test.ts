// Wandering placement (protocol/lifecycle/wander.ts) over random networks and times: the target
// changes every epoch and consecutive targets share no node when the network has room for it,
// the phases spread a content's moves over the period, and the planner, followed pass by pass
// (and cut off anywhere), never leaves a chunk short of verified copies nor on one node much
// longer than a period.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { planChunk } from '../../protocol/lifecycle/plan.ts';
import type { PlanNode } from '../../protocol/lifecycle/target.ts';
import { wanderEpoch, wanderEpochEnd, wanderPhase, wanderTarget } from '../../protocol/lifecycle/wander.ts';
import { hashes, Model } from './lifecycle-model.ts';


const PERIOD = 3_600_000;
const node = (id: string, region: string, over: Partial<PlanNode> = {}): PlanNode =>
  ({ id, region, weight: 1, grade: 1, state: 'active', lost: false, full: false, ...over });

/**
 * A network with room for disjoint targets: every region holds at least three nodes and there
 * are at least as many regions as replicas (two picks take at most two nodes of a region), or
 * one region of at least three times the replicas.
 */
const roomy = fc.integer({ min: 1, max: 3 }).chain((replicas) => fc.oneof(
  fc.array(fc.integer({ min: 3, max: 6 }), { minLength: replicas, maxLength: 5 }),
  fc.integer({ min: 3 * replicas, max: 12 }).map((n) => [n]),
).map((sizes) => ({
  replicas,
  nodes: sizes.flatMap((size, r) => Array.from({ length: size }, (_, i) => node(`r${r}n${i}`, `r${r}`, { weight: [1, 2, 0.5][i % 3] }))),
})));

const time = fc.integer({ min: 1_600_000_000_000, max: 1_900_000_000_000 });
const opts = (replicas: number) => ({ replicas, minGrade: 0 });

describe('wander epochs', () => {
  it('moves a chunk to nodes of other names every epoch, and spreads its copies over regions as the fixed target does', () => {
    fc.assert(fc.property(roomy, time, fc.nat(1000), fc.nat().map((n) => n.toString(16)), ({ replicas, nodes }, t0, k, salt) => {
      const key = hashes(1, k + 1)[0];
      const regions = new Set(nodes.map((n) => n.region)).size;
      let prev: string[] | null = null;
      // Step through six epochs, one boundary at a time.
      let now = t0;
      for (let i = 0; i < 6; i++) {
        const w = { periodMs: PERIOD, salt, now };
        const t = wanderTarget(key, nodes, opts(replicas), w);
        expect(t).toHaveLength(replicas);
        expect(new Set(t.map((id) => id.split('n')[0])).size).toBe(Math.min(replicas, regions));
        if (prev) expect(t.filter((id) => prev!.includes(id)), `epoch ${wanderEpoch(key, w)}`).toEqual([]);
        // The same target throughout the epoch.
        const end = wanderEpochEnd(key, w);
        expect(end).toBeGreaterThan(now);
        expect(end - now).toBeLessThanOrEqual(PERIOD);
        expect(wanderTarget(key, nodes, opts(replicas), { ...w, now: end - 1 })).toEqual(t);
        prev = t;
        now = end;
      }
    }), { numRuns: 400 });
  });

  it('keeps copies apart where the network allows it, and still takes every replica when it is small', () => {
    const three = [node('a', 'x'), node('b', 'x'), node('c', 'x')];
    for (const key of hashes(300, 9)) {
      const t = wanderTarget(key, three, opts(2), { periodMs: PERIOD, salt: 's', now: 1_700_000_000_000 });
      expect(t).toHaveLength(2);
      expect(new Set(t).size).toBe(2);
    }
  });

  it('draws a phase per chunk: the chunks of a content reach the end of their epoch spread evenly over the period', () => {
    const keys = hashes(4000, 3);
    const bins = new Array(8).fill(0);
    for (const key of keys) bins[Math.floor(wanderPhase(key, { periodMs: PERIOD, salt: 'c1' }) / (PERIOD / 8))]++;
    for (const b of bins) expect(Math.abs(b / 500 - 1)).toBeLessThan(0.15);
    // And so, at any moment, about one chunk in eight moves within the next eighth of the period.
    const now = 1_700_000_123_456;
    const soon = keys.filter((key) => wanderEpochEnd(key, { periodMs: PERIOD, salt: 'c1', now }) - now <= PERIOD / 8).length;
    expect(Math.abs(soon / 500 - 1)).toBeLessThan(0.15);
    // Another content (another salt) moves its chunks at other moments.
    const same = keys.filter((key) => wanderPhase(key, { periodMs: PERIOD, salt: 'c1' }) === wanderPhase(key, { periodMs: PERIOD, salt: 'c2' })).length;
    expect(same).toBeLessThan(5);
  });

  it('plans a wandering chunk through planChunk: copies to the epoch\'s nodes, then deletes the old ones as wander', () => {
    const nodes = new Map(['a', 'b', 'c', 'd', 'e', 'f'].map((id) => [id, node(id, 'x')]));
    const key = hashes(1, 77)[0];
    const w = { periodMs: PERIOD, salt: 'z', now: 1_700_000_000_000 };
    const first = planChunk({ key, replicas: 2, minGrade: 0, holders: [], nodes, wander: w }).target;
    const next = { ...w, now: wanderEpochEnd(key, w) };
    const holders = first.map((n) => ({ node: n, state: 'stored' as const }));
    const moving = planChunk({ key, replicas: 2, minGrade: 0, holders, nodes, wander: next });
    expect(moving.copies.map((c) => c.to).sort()).toEqual([...moving.target].sort());
    expect(moving.deletes).toEqual([]);
    const copied = [...holders, ...moving.target.map((n) => ({ node: n, state: 'stored' as const }))];
    const after = planChunk({ key, replicas: 2, minGrade: 0, holders: copied, nodes, wander: next });
    expect(after.copies).toEqual([]);
    expect(after.deletes.sort((a, b) => a.node.localeCompare(b.node))).toEqual(first.sort().map((n) => ({ node: n, why: 'wander' })));
  });
});

describe('wandering, pass by pass', () => {
  /** Verified copies the manager counts that are really on their node. */
  const verified = (m: Model, key: string) => m.holders(key).filter((h) => h.state === 'stored' && m.nodes.get(h.node)!.data.has(key)).length;

  it('never leaves a chunk with fewer verified copies than it needs, however the passes are cut off', () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 3 }), fc.integer({ min: 3, max: 9 }), fc.nat().map((n) => n.toString(16)),
      fc.array(fc.record({ advance: fc.integer({ min: 1, max: PERIOD }), seed: fc.nat(), cutShare: fc.double({ min: 0, max: 1, noNaN: true }) }), { minLength: 4, maxLength: 30 }),
      (replicas, count, salt, passes) => {
        const m = new Model(replicas, hashes(8, count));
        for (let i = 0; i < count; i++) m.addNode(['a', 'b'][i % 2]);
        m.wander = { periodMs: PERIOD, salt };
        m.now = 1_700_000_000_000;
        m.upload();
        for (const p of passes) {
          m.now += p.advance;
          let x = p.seed;
          for (const key of m.chunks) {
            x = (Math.imul(x, 1103515245) + 12345) >>> 0;
            const cut = x / 2 ** 32 < p.cutShare ? x % 9 : Infinity;
            m.execute(key, (i) => i >= cut);
            if (verified(m, key) < Math.min(replicas, count)) return false;
            // The manager never believes in a copy that is not there.
            for (const h of m.holders(key)) if (h.state === 'stored' && !m.nodes.get(h.node)!.data.has(key)) return false;
          }
        }
        return true;
      },
    ), { numRuns: 300 });
  });

  it('holds a chunk on no node longer than a period and one pass, when the network has room', () => {
    fc.assert(fc.property(roomy, fc.nat().map((n) => n.toString(16)), fc.integer({ min: 8, max: 32 }), ({ replicas, nodes }, salt, perPeriod) => {
      const m = new Model(replicas, hashes(6, replicas + nodes.length));
      for (const n of nodes) m.nodes.set(n.id, { ...n, data: new Set(), destroyed: false, recoveredAt: 0 });
      m.wander = { periodMs: PERIOD, salt };
      m.now = 1_700_000_000_000;
      m.upload();
      const pass = Math.floor(PERIOD / perPeriod);
      const since = new Map<string, number>();
      const look = () => {
        for (const key of m.chunks) {
          for (const n of m.nodes.values()) {
            const k = `${key}@${n.id}`;
            if (n.data.has(key)) {
              if (!since.has(k)) since.set(k, m.now);
              if (m.now - since.get(k)! > PERIOD + pass) return false;
            } else since.delete(k);
          }
          if (verified(m, key) < replicas) return false;
        }
        return true;
      };
      if (!look()) return false;
      for (let i = 0; i < perPeriod * 5; i++) {
        m.now += pass;
        for (const key of m.chunks) m.execute(key);
        if (!look()) return false;
      }
      return true;
    }), { numRuns: 150 });
  });
});
