// The small version of the demand simulation in `npm run sim`: a day of viewers over 200 nodes
// and 5,000 contents with a flash crowd; copies following demand must overload at most a tenth
// of what fixed replication with the same storage overloads, storing at most 20 % more than
// base replication. Seeded: the same numbers on every run.
import { describe, expect, it } from 'vitest';
import { runDemand, SMALL_DEMAND } from '../../sim/demand-run.ts';
import { demandTargetsMet } from '../../sim/demand-report.ts';

describe('the demand simulation, small', () => {
  it('following demand overloads a tenth of fixed replication at about the same storage', () => {
    const r = runDemand(SMALL_DEMAND);
    // Fixed replication must be overloaded for the comparison to mean anything.
    expect(r.fixed.overloaded).toBeGreaterThan(0.01);
    expect(r.following.overloaded).toBeLessThanOrEqual(r.fixed.overloaded / 10);
    expect(r.following.avgStored).toBeLessThanOrEqual(1.2 * r.following.baseStored);
    // Fixed got the same storage on average (a fourth copy for a fraction of the contents).
    expect(Math.abs(r.fixed.avgStored / r.following.avgStored - 1)).toBeLessThan(0.02);
    expect(r.following.ups).toBeGreaterThan(0);
    expect(r.following.downs).toBeGreaterThan(0);
    expect(r.following.bytesMoved).toBeGreaterThan(0);
    expect(demandTargetsMet(r)).toEqual({ overload: true, storage: true });
  }, 120_000);
});
