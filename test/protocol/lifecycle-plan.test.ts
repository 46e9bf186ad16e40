// Where copies belong and what a chunk needs: the target set (rendezvous over failure domains),
// the per-chunk plan, and property tests over random histories of joins, drains, failures and
// restarts, executed with interruptions.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { planChunk } from '../../protocol/lifecycle/plan.ts';
import { eligible, pickDiverse, targetNodes, type PlanNode } from '../../protocol/lifecycle/target.ts';
import { rankNodes } from '../../protocol/placement.ts';
import { hashes, Model } from './lifecycle-model.ts';


const node = (id: string, region: string, over: Partial<PlanNode> = {}): PlanNode =>
  ({ id, region, weight: 1, grade: 1, state: 'active', lost: false, full: false, ...over });
const dir = (...ns: PlanNode[]) => new Map(ns.map((n) => [n.id, n]));

describe('target nodes', () => {
  const nine = ['a', 'b', 'c'].flatMap((r) => [1, 2, 3].map((i) => node(`${r}${i}`, r)));

  it('puts each copy in its own region while there are regions left', () => {
    for (const key of hashes(2000)) {
      const t = targetNodes(key, nine, { replicas: 3, minGrade: 0 });
      expect(new Set(t.map((id) => id[0])).size).toBe(3);
      const two = targetNodes(key, nine, { replicas: 2, minGrade: 0 });
      expect(new Set(two.map((id) => id[0])).size).toBe(2);
    }
  });

  it('fills from the best of the rest when regions run out, and spreads evenly', () => {
    const count = new Map<string, number>();
    const ns = [node('x1', 'x'), node('x2', 'x'), node('y1', 'y')];
    for (const key of hashes(6000)) {
      const t = targetNodes(key, ns, { replicas: 3, minGrade: 0 });
      expect(t.sort()).toEqual(['x1', 'x2', 'y1']);
    }
    for (const key of hashes(9000)) for (const id of targetNodes(key, nine, { replicas: 1, minGrade: 0 })) count.set(id, (count.get(id) ?? 0) + 1);
    for (const n of nine) expect(Math.abs(count.get(n.id)! / 1000 - 1)).toBeLessThan(0.12);
  });

  it('leaves out what cannot take the chunk: low grade, no weight, lost, draining, retired, full unless holding', () => {
    const ns = [node('g', 'a', { grade: 0 }), node('w', 'a', { weight: 0 }), node('l', 'a', { state: 'down', lost: true }),
      node('d', 'a', { state: 'draining' }), node('r', 'a', { state: 'retired' }), node('f', 'a', { full: true }), node('ok', 'a')];
    for (const key of hashes(200)) {
      expect(targetNodes(key, ns, { replicas: 3, minGrade: 1 })).toEqual(['ok']);
      expect(targetNodes(key, ns, { replicas: 3, minGrade: 1, holding: new Set(['f']) }).sort()).toEqual(['f', 'ok']);
    }
  });

  it('keeps a down node within its grace period in the set, so a restart moves nothing', () => {
    const ns = [node('a1', 'a'), node('a2', 'a'), node('a3', 'a')];
    const downed = ns.map((n) => (n.id === 'a2' ? { ...n, state: 'down' as const } : n));
    for (const key of hashes(300)) expect(targetNodes(key, downed, { replicas: 2, minGrade: 0 })).toEqual(targetNodes(key, ns, { replicas: 2, minGrade: 0 }));
  });

  it('a joining node takes about its share, each changed set gains it and loses one other, nothing else moves', () => {
    for (const regions of [['a', 'a', 'a', 'a'], ['a', 'b', 'a', 'b'], ['a', 'b', 'c', 'a']]) {
      const four = regions.map((r, i) => node(`n${i + 1}`, r));
      const five = [...four, node('n5', regions[0])];
      const keys = hashes(5000, regions.length + regions.join('').length);
      let moved = 0;
      for (const key of keys) {
        const before = new Set(targetNodes(key, four, { replicas: 2, minGrade: 0 }));
        const after = targetNodes(key, five, { replicas: 2, minGrade: 0 });
        const gained = after.filter((id) => !before.has(id));
        expect(gained.length).toBeLessThanOrEqual(1);
        if (gained.length) expect(gained).toEqual(['n5']);
        moved += gained.length;
      }
      // Its share of 2 copies per chunk over 5 nodes; regions skew the share a little.
      const share = moved / (keys.length * 2);
      expect(share).toBeGreaterThan(0.12);
      expect(share).toBeLessThan(0.3);
    }
  });
});

describe('a chunk plan', () => {
  const key = hashes(1)[0];
  const four = () => dir(node('n1', 'a'), node('n2', 'a'), node('n3', 'a'), node('n4', 'a'));
  const targetOf = (nodes: Map<string, PlanNode>) => planChunk({ key, replicas: 2, minGrade: 0, holders: [], nodes }).target;

  it('asks nothing of a chunk whose copies are where they belong', () => {
    const nodes = four();
    const holders = targetOf(nodes).map((n) => ({ node: n, state: 'stored' as const }));
    const p = planChunk({ key, replicas: 2, minGrade: 0, holders, nodes });
    expect(p).toMatchObject({ copies: [], deletes: [], drops: [], checks: [], serving: 2 });
  });

  it('copies from the survivor once a holder is lost, and forgets the lost copy', () => {
    const nodes = four();
    const [a, b] = targetOf(nodes);
    nodes.set(a, { ...nodes.get(a)!, state: 'down', lost: true });
    const p = planChunk({ key, replicas: 2, minGrade: 0, holders: [{ node: a, state: 'stored' }, { node: b, state: 'stored' }], nodes });
    expect(p.drops).toEqual([{ node: a, why: 'node-lost' }]);
    expect(p.copies).toHaveLength(1);
    expect(p.copies[0].from).toEqual([b]);
    expect(p.target).not.toContain(a);
  });

  it('waits while a holder is down within its grace period', () => {
    const nodes = four();
    const [a, b] = targetOf(nodes);
    nodes.set(a, { ...nodes.get(a)!, state: 'down' });
    const p = planChunk({ key, replicas: 2, minGrade: 0, holders: [{ node: a, state: 'stored' }, { node: b, state: 'stored' }], nodes });
    expect(p).toMatchObject({ copies: [], deletes: [], drops: [], serving: 1 });
  });

  it('drains: copies first from the draining node, deletes its copy only once the target holds both', () => {
    const nodes = four();
    const [a, b] = targetOf(nodes);
    nodes.set(a, { ...nodes.get(a)!, state: 'draining' });
    const holders = [{ node: a, state: 'stored' as const }, { node: b, state: 'stored' as const }];
    const p = planChunk({ key, replicas: 2, minGrade: 0, holders, nodes });
    expect(p.copies).toHaveLength(1);
    expect(p.copies[0].from[0]).toBe(a);
    expect(p.deletes).toEqual([]);
    const to = p.copies[0].to;
    const pending = planChunk({ key, replicas: 2, minGrade: 0, holders: [...holders, { node: to, state: 'pending' }], nodes });
    expect(pending.deletes).toEqual([]);
    const done = planChunk({ key, replicas: 2, minGrade: 0, holders: [...holders, { node: to, state: 'stored' }], nodes });
    expect(done.deletes).toEqual([{ node: a, why: 'drained' }]);
    expect(done.copies).toEqual([]);
  });

  it('checks a copy on a node back from down before counting it, and never deletes what is short', () => {
    const nodes = four();
    const [a, b] = targetOf(nodes);
    const p = planChunk({ key, replicas: 2, minGrade: 0, holders: [{ node: a, state: 'suspect' }, { node: b, state: 'stored' }], nodes });
    expect(p.checks).toEqual([a]);
    expect(p.copies).toEqual([]);
    expect(p.serving).toBe(1);
  });

  it('removes a bad copy before writing a good one to the same node, and abandons copies outside the target', () => {
    const nodes = four();
    const [a, b] = targetOf(nodes);
    const other = [...nodes.keys()].find((n) => n !== a && n !== b)!;
    const p = planChunk({ key, replicas: 2, minGrade: 0, nodes,
      holders: [{ node: a, state: 'deleting' }, { node: b, state: 'stored' }, { node: other, state: 'pending' }] });
    expect(p.deletes).toEqual(expect.arrayContaining([{ node: a, why: 'replaced' }, { node: other, why: 'abandoned' }]));
    expect(p.copies).toEqual([]);
  });

  it('keeps every copy when too few nodes can take the chunk', () => {
    const nodes = dir(node('n1', 'a'), node('n2', 'a', { state: 'draining' }));
    const p = planChunk({ key, replicas: 2, minGrade: 0, nodes, holders: [{ node: 'n1', state: 'stored' }, { node: 'n2', state: 'stored' }] });
    expect(p.target).toEqual(['n1']);
    expect(p.deletes).toEqual([]);
  });

  it('random placement keeps copies where they are and draws the shortfall from unused regions', () => {
    const nodes = dir(node('a1', 'a'), node('a2', 'a'), node('b1', 'b'), node('c1', 'c'));
    let calls = 0;
    const draw = (n: number) => (calls++, n - 1);
    const p = planChunk({ key, replicas: 3, minGrade: 0, nodes, draw, holders: [{ node: 'a2', state: 'stored' }] });
    expect(p.target[0]).toBe('a2');
    expect(new Set(p.target.map((id) => id[0])).size).toBe(3);
    expect(calls).toBe(2);
  });
});

describe('random histories (property)', () => {
  type Step =
    | { t: 'join'; region: number }
    | { t: 'drain'; pick: number }
    | { t: 'undrain'; pick: number }
    | { t: 'fail'; pick: number; forGood: boolean }
    | { t: 'expire'; pick: number }
    | { t: 'restart'; pick: number }
    | { t: 'work'; seed: number; share: number };

  const step: fc.Arbitrary<Step> = fc.oneof(
    fc.record({ t: fc.constant('join' as const), region: fc.nat(2) }),
    fc.record({ t: fc.constant('drain' as const), pick: fc.nat() }),
    fc.record({ t: fc.constant('undrain' as const), pick: fc.nat() }),
    fc.record({ t: fc.constant('fail' as const), pick: fc.nat(), forGood: fc.boolean() }),
    fc.record({ t: fc.constant('expire' as const), pick: fc.nat() }),
    fc.record({ t: fc.constant('restart' as const), pick: fc.nat() }),
    fc.record({ t: fc.constant('work' as const), seed: fc.nat(), share: fc.double({ min: 0, max: 1, noNaN: true }) }),
  );

  /**
   * Fewer than `replicas` nodes fail at once: a failure is allowed only while fewer than
   * `replicas - 1` others are failed and not yet repaired around (the model settles once that
   * many have failed), and while enough nodes stay up to repair onto. Any mix of joins, drains,
   * grace expiries, restarts and interrupted work.
   */
  it('never loses a chunk while fewer than `replicas` nodes fail at once, and a finished plan meets the invariant', () => {
    fc.assert(fc.property(fc.integer({ min: 2, max: 3 }), fc.array(step, { minLength: 5, maxLength: 40 }), (replicas, steps) => {
      const m = new Model(replicas, hashes(24, replicas));
      for (let i = 0; i < 6; i++) m.addNode(['a', 'b', 'c'][i % 3]);
      m.upload();
      // Nodes failed since the network last repaired around its failures.
      const failing = new Set<string>();
      const pick = (p: number, ok: (n: { state: string; destroyed: boolean; lost: boolean }) => boolean) => {
        const c = [...m.nodes.values()].filter(ok);
        return c.length ? c[p % c.length] : null;
      };
      for (const s of steps) {
        if (s.t === 'join') m.addNode(['a', 'b', 'c'][s.region], 'joining');
        else if (s.t === 'drain') { const n = pick(s.pick, (x) => x.state === 'active' || x.state === 'joining'); if (n) m.setState(n.id, 'draining'); }
        else if (s.t === 'undrain') { const n = pick(s.pick, (x) => x.state === 'draining'); if (n) m.setState(n.id, 'active'); }
        else if (s.t === 'fail') {
          const n = pick(s.pick, (x) => x.state !== 'down' && x.state !== 'retired');
          // Repairing around a failure needs somewhere to put the copies: at least `replicas`
          // nodes that take copies stay up.
          const takers = [...m.nodes.values()].filter((x) => x !== n && (x.state === 'active' || x.state === 'joining')).length;
          if (n && takers >= replicas) {
            m.fail(n.id, s.forGood);
            failing.add(n.id);
            if (failing.size >= replicas - 1) {
              // Enough failures at once: the network repairs around them (grace ends, work runs)
              // before the next one can happen.
              for (const x of m.nodes.values()) if (x.state === 'down') m.expire(x.id);
              m.settle();
              failing.clear();
            }
          }
        } else if (s.t === 'expire') { const n = pick(s.pick, (x) => x.state === 'down' && !x.lost); if (n) m.expire(n.id); }
        else if (s.t === 'restart') { const n = pick(s.pick, (x) => x.state === 'down' && !x.destroyed); if (n) { m.restart(n.id); failing.delete(n.id); } }
        else {
          // Interrupted work: a share of the chunks, each cut off after a random number of actions.
          let x = s.seed;
          for (const key of m.chunks) {
            x = (Math.imul(x, 1103515245) + 12345) >>> 0;
            if (x / 2 ** 32 > s.share) continue;
            const stop = x % 7;
            m.execute(key, (i) => i >= stop);
          }
        }
        for (const key of m.chunks) {
          if (m.copiesOf(key) < 1) return false;
          // The manager never believes in a verified copy that is not there (lost nodes aside).
          for (const h of m.holders(key)) {
            const n = m.nodes.get(h.node)!;
            if (h.state === 'stored' && !n.destroyed && !n.data.has(key)) return false;
          }
        }
      }
      // The end: every failed node's grace runs out, the rest settles.
      for (const x of m.nodes.values()) if (x.state === 'down') m.expire(x.id);
      m.settle(12);
      for (const key of m.chunks) {
        const p = m.plan(key);
        const eligible = [...m.nodes.values()].filter((n) => n.state === 'active' || n.state === 'joining').length;
        const want = Math.min(replicas, eligible);
        const stored = m.holders(key).filter((h) => h.state === 'stored');
        if (stored.length < want || p.copies.length || p.deletes.length || p.checks.length) return false;
        if (want === replicas && stored.some((h) => !p.target.includes(h.node))) return false;
        if (stored.some((h) => !m.nodes.get(h.node)!.data.has(key))) return false;
      }
      return true;
    }), { numRuns: 300 });
  }, 120_000);
});

describe('the fast target', () => {
  it('is exactly the diverse pick over the full ranking, whatever the regions and weights', () => {
    fc.assert(fc.property(
      fc.array(fc.record({ region: fc.constantFrom('a', 'b', 'c', 'd', ''), weight: fc.constantFrom(0, 0.5, 1, 3), grade: fc.nat(3) }), { minLength: 0, maxLength: 60 }),
      fc.integer({ min: 1, max: 5 }), fc.nat(3), fc.nat(10_000),
      (specs, replicas, minGrade, seed) => {
        const nodes = specs.map((s, i) => node(`n${i}`, s.region, { weight: s.weight, grade: s.grade }));
        const byId = new Map(nodes.map((n) => [n.id, n]));
        for (const key of hashes(20, seed)) {
          const slow = JSON.stringify(pickDiverse(rankNodes(key, nodes.filter((n) => eligible(n, { replicas, minGrade }))), replicas).map((n) => n.id));
          if (JSON.stringify(targetNodes(key, nodes, { replicas, minGrade })) !== slow) return false;
          // The managers pass their directory's values: an iterator that can be read only once.
          if (JSON.stringify(targetNodes(key, byId.values(), { replicas, minGrade })) !== slow) return false;
        }
        return true;
      },
    ), { numRuns: 200 });
  });
});
