// The benchmark harness, so it cannot rot: a tiny item through the whole pipeline — the stack
// behind the shaper, the upload, the profile where a node dies at 40 %, bunsan and its peers
// over the shaped links — with no timing assertions (benchmarks are not tests). aria2 runs if
// aria2c is installed; otherwise the report says it was skipped.
import { describe, expect, it } from 'vitest';
import { runBench } from '../../bench/harness.ts';
import { aria2Version } from '../../bench/machine.ts';
import { markdownTable } from '../../bench/metrics.ts';
import { PROFILES } from '../../bench/profiles.ts';

describe('npm run bench, in miniature', () => {
  it('runs every client over the shaped links of a profile and reports each', async () => {
    const profile = PROFILES.find((p) => p.name === 'node-dies')!;
    const report = await runBench({ size: 3 * 1024 * 1024 + 5, chunkSize: 256 * 1024, profiles: [profile] });
    console.log(markdownTable(report.rows));
    for (const s of report.skipped) console.log(`skipped ${s}`);
    const hasAria2 = aria2Version() !== null;
    const clients = report.rows.map((r) => r.client);
    expect(clients).toEqual(hasAria2 ? ['bunsan', 'single-node', 'aria2'] : ['bunsan', 'single-node']);
    if (!hasAria2) expect(report.skipped).toEqual([expect.stringMatching(/^aria2: aria2c not found/)]);
    for (const r of report.rows) {
      expect(r, r.note).toMatchObject({ profile: 'node-dies', ok: true });
      expect(r.seconds).toBeGreaterThan(0);
      expect(r.fractionOfCaps).toBeGreaterThan(0);
      expect(r.ttfbMs).not.toBeNull();
      // the node that dies carried bytes before it died, as did the others (single-node: n1 only)
      expect(r.bytesPerNode).toHaveLength(4);
    }
    const bunsan = report.rows.find((r) => r.client === 'bunsan')!;
    expect(bunsan.bytesPerNode.every((b) => b > 0)).toBe(true);
    expect(bunsan.p50ChunkMs).not.toBeNull();
    expect(bunsan.hedgedBytes).not.toBeNull();
    const single = report.rows.find((r) => r.client === 'single-node')!;
    expect(single.bytesPerNode.slice(1).every((b) => b < 64 * 1024)).toBe(true); // probes at most
    expect(report.wireBytes).toBe(report.size + report.chunks * 28);
    expect(report.machine.nproc).toBeGreaterThan(0);
  });
});
