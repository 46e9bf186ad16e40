// A small version of `npm run sim`: the same scenarios over 50 nodes and 8,000 chunks, with
// the targets of the full run (moves within 1.1x of the optimum where the sample is large enough
// to judge, no chunk ever lost, a region going dark losing nothing).
import { describe, expect, it } from 'vitest';
import { runScenarios } from '../../sim/scenarios.ts';

describe('the simulation, small', () => {
  for (const regions of [5, 3]) {
    it(`keeps every chunk through joins, a drain, failures and a dark region (${regions} regions)`, () => {
      const { rows } = runScenarios({ nodes: 50, regions, chunks: 8_000, replicas: 3, budget: 400, seed: regions });
      for (const r of rows) {
        expect(r.lost, r.scenario).toBe(0);
        if (r.ratio === null) expect(r.bytesMoved, r.scenario).toBe(0);
        // A join of one node among 50 is a sample of ~500 chunks: judged loosely here, exactly at full size.
        else expect(r.ratio, r.scenario).toBeLessThan(r.scenario.startsWith('1 node join') ? 1.25 : 1.1);
        expect(r.deficit, r.scenario).toBeLessThan(3);
      }
      expect(rows.find((r) => r.scenario.includes('goes dark'))!.deficit).toBe(1);
    }, 120_000);
  }
});
