// Standby mirrors: wake when the network runs out of egress, enough of them and the largest
// first; rest after a cool-down of low demand, emptiest first; never wake and rest in turn.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decideMirrors, mirrorsHighSince, type MirrorView } from '../../protocol/demand/mirrors.ts';
import { DEFAULT_DEMAND_POLICY as P } from '../../protocol/demand/policy.ts';

const MIN = 60_000;
const mirrors = (): MirrorView[] => [
  { id: 'm1', awake: false, since: 0, egress: 10, held: 0 },
  { id: 'm2', awake: false, since: 0, egress: 30, held: 0 },
  { id: 'm3', awake: false, since: 0, egress: 20, held: 0 },
];

describe('standby mirrors', () => {
  it('wake when the demand passes wakeAt of the serving egress, largest first, enough to get under the high water', () => {
    const base = { activeEgress: 100, mirrors: mirrors(), highSince: null, now: 0, policy: P };
    expect(decideMirrors({ ...base, demand: 80 })).toEqual({ wake: [], rest: [] });
    // 85 > 0.8 × 100; under 0.7 × (100 + 30) = 91 with m2 alone.
    const one = decideMirrors({ ...base, demand: 85 });
    expect(one.wake.map((w) => w.id)).toEqual(['m2']);
    expect(one.wake[0].reason).toMatch(/over 80 %/);
    // 100 needs 0.7 × E ≥ 100 → E ≥ 143: m2 and m3 (150).
    expect(decideMirrors({ ...base, demand: 100 }).wake.map((w) => w.id)).toEqual(['m2', 'm3']);
    expect(decideMirrors({ ...base, demand: 1000 }).wake.map((w) => w.id)).toEqual(['m2', 'm3', 'm1']);
    // Awake mirrors count as serving egress: 100 is under 0.8 × 130; 110 is not, and needs 0.7 × E ≥ 110.
    const woken = mirrors().map((m) => (m.id === 'm2' ? { ...m, awake: true } : m));
    expect(decideMirrors({ ...base, mirrors: woken, demand: 100 }).wake).toEqual([]);
    expect(decideMirrors({ ...base, mirrors: woken, demand: 110 }).wake.map((w) => w.id)).toEqual(['m3', 'm1']);
  });

  it('rest after a cool-down of low demand, emptiest first, and not sooner than a cool-down after waking', () => {
    const awake = [
      { id: 'm1', awake: true, since: 0, egress: 10, held: 500 },
      { id: 'm2', awake: true, since: 0, egress: 30, held: 100 },
      { id: 'm3', awake: true, since: 25 * MIN, egress: 20, held: 0 },
    ];
    const at = (now: number, highSince: number | null, demand = 40) => decideMirrors({ demand, activeEgress: 100, mirrors: awake, highSince, now, policy: P });
    expect(at(30 * MIN, 25 * MIN).rest).toEqual([]);
    const r = at(36 * MIN, 25 * MIN);
    expect(r.rest.map((x) => x.id)).toEqual(['m3', 'm2', 'm1']);
    expect(r.rest[0].reason).toMatch(/under 50 %.*for 11 min/);
    expect(at(34 * MIN, 20 * MIN).rest.map((x) => x.id)).toEqual(['m2', 'm1']);
    // Demand above restAt of the egress without mirrors: they stay.
    expect(at(60 * MIN, 20 * MIN, 55).rest).toEqual([]);
  });

  it('never wakes and rests a mirror in turn faster than the cool-down, whatever the demand', () => {
    fc.assert(fc.property(fc.array(fc.tuple(fc.double({ min: 0, max: 200, noNaN: true }), fc.integer({ min: 1, max: 5 * MIN })), { minLength: 1, maxLength: 120 }), (steps) => {
      let ms = mirrors();
      let highSince: number | null = null;
      let now = 0;
      const woke = new Map<string, number>();
      for (const [demand, dt] of steps) {
        now += dt;
        highSince = mirrorsHighSince(highSince, demand, 100, now, P);
        const d = decideMirrors({ demand, activeEgress: 100, mirrors: ms, highSince, now, policy: P });
        if (d.wake.length && d.rest.length) return false;
        for (const w of d.wake) if (ms.find((m) => m.id === w.id)!.awake) return false;
        for (const r of d.rest) {
          if (!ms.find((m) => m.id === r.id)!.awake || now - woke.get(r.id)! < P.coolDownMs) return false;
          // Low for a cool-down: the demand was under restAt of the egress without mirrors all along.
          if (highSince !== null && now - highSince < P.coolDownMs) return false;
        }
        // Demand between the marks changes nothing.
        const awakeEgress = ms.filter((m) => m.awake).reduce((t, m) => t + m.egress, 0);
        if (demand > P.restAt * 100 && demand <= P.wakeAt * (100 + awakeEgress) && (d.wake.length || d.rest.length)) return false;
        ms = ms.map((m) => d.wake.some((w) => w.id === m.id) ? { ...m, awake: true, since: now }
          : d.rest.some((r) => r.id === m.id) ? { ...m, awake: false, since: now } : m);
        for (const w of d.wake) woke.set(w.id, now);
      }
      return true;
    }), { numRuns: 300 });
  });
});
