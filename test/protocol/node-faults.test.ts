// The manifest's recent-health hint: a node the managers recently found serving bad replicas
// looks slower to the engine, measured or not, but only mildly, so a much faster node still wins.
import { describe, expect, it } from 'vitest';
import { chooseNode, FAULT_PENALTY } from '../../protocol/engine/choose-node.ts';
import { newNodeStats } from '../../protocol/engine/node-stats.ts';
import { Manifest } from '../../protocol/manifest.ts';
import { createContent } from './fixtures.ts';

const ctx = { now: 1000, perNode: 4, bytes: 100_000 };
const measured = (id: string, rate: number) => ({ ...newNodeStats(id), rate, latency: 10, rateSamples: 1, updatedAt: 1 });

describe('recent faults in the manifest', () => {
  it('make an otherwise equal node lose, measured or fresh', () => {
    const a = measured('a', 1000);
    const b = { ...measured('b', 1000), requests: 5 };
    expect(chooseNode([{ node: a, failures: 0, hint: { faults: 2 } }, { node: b, failures: 0, hint: {} }], ctx)?.id).toBe('b');
    const fa = newNodeStats('a');
    const fb = { ...newNodeStats('b'), requests: 5 };
    expect(chooseNode([{ node: fa, failures: 0, hint: { faults: 1 } }, { node: fb, failures: 0, hint: {} }], ctx)?.id).toBe('b');
  });

  it('weigh less than a large difference in speed, and stop growing after a few', () => {
    const fast = measured('fast', 3000);
    const slow = measured('slow', 1000);
    expect(chooseNode([{ node: fast, failures: 0, hint: { faults: 1000 } }, { node: slow, failures: 0, hint: {} }], ctx)?.id).toBe('fast');
    expect(FAULT_PENALTY).toBeLessThan(0.5);
  });

  it('are a non-negative integer in the schema', async () => {
    const m = (await createContent()).manifest;
    expect(Manifest.safeParse({ ...m, nodes: m.nodes.map((n) => ({ ...n, faults: 3 })) }).success).toBe(true);
    expect(Manifest.safeParse({ ...m, nodes: m.nodes.map((n) => ({ ...n, faults: -1 })) }).success).toBe(false);
    expect(Manifest.safeParse({ ...m, nodes: m.nodes.map((n) => ({ ...n, faults: 1.5 })) }).success).toBe(false);
  });
});
