// The benchmark harness, so it cannot rot: a tiny item through the whole pipeline — the stack
// behind the shaper, the upload, the profiles where a node dies and where one hangs silently at
// 40 %, bunsan and its peers over the shaped links, the service worker in Chromium included —
// with no timing assertions (benchmarks are not tests). aria2 runs if aria2c is installed;
// otherwise the report says it was skipped. It is left out of the hang, where it waits out its
// own timeouts, which would only slow this test down.
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runBench, type Peer } from '../../bench/harness.ts';
import { aria2Version } from '../../bench/machine.ts';
import { markdownTable } from '../../bench/metrics.ts';
import { PROFILES } from '../../bench/profiles.ts';
import { CHROMIUM } from '../../bench/service-worker-client.ts';

const SW = 'service worker (Chromium)';

describe('npm run bench, in miniature', () => {
  it('runs every client over the shaped links of the fault profiles and reports each', async () => {
    const profiles = ['node-dies', 'node-hangs'].map((n) => PROFILES.find((p) => p.name === n)!);
    const peers = (p: { name: string }): Peer[] => (p.name === 'node-dies' ? ['single-node', 'aria2', SW] : [SW]);
    const report = await runBench({ size: 3 * 1024 * 1024 + 5, chunkSize: 256 * 1024, profiles, peers });
    console.log(markdownTable(report.rows));
    for (const s of report.skipped) console.log(`skipped ${s}`);
    expect(existsSync(CHROMIUM), `the service-worker row needs Chromium at ${CHROMIUM}`).toBe(true);
    const hasAria2 = aria2Version() !== null;
    const clients = (name: string) => report.rows.filter((r) => r.profile === name).map((r) => r.client);
    expect(clients('node-dies')).toEqual(hasAria2 ? ['bunsan', 'single-node', 'aria2', SW] : ['bunsan', 'single-node', SW]);
    expect(clients('node-hangs')).toEqual(['bunsan', SW]);
    expect(report.skipped).toEqual(hasAria2 ? [] : [expect.stringMatching(/^aria2: aria2c not found/)]);
    for (const r of report.rows) {
      // ok means byte-exact: every client's output is hashed and compared
      expect(r, r.note).toMatchObject({ ok: true });
      expect(r.seconds).toBeGreaterThan(0);
      expect(r.fractionOfCaps).toBeGreaterThan(0);
      expect(r.ttfbMs).not.toBeNull();
      expect(r.bytesPerNode).toHaveLength(4);
      // the fault struck during every run (the threshold counts the bytes of all links, so n1's alone reach it too)
      expect(r.faultAtMs, `${r.profile} ${r.client}`).not.toBeNull();
    }
    for (const profile of ['node-dies', 'node-hangs']) {
      for (const client of ['bunsan', SW] as const) {
        const r = report.rows.find((x) => x.profile === profile && x.client === client)!;
        // the failing node carried bytes before it failed, as did the others
        expect(r.bytesPerNode.every((b) => b > 0), `${profile} ${client}: ${r.bytesPerNode}`).toBe(true);
        // the engine's events reached the client: chunk latencies and the summary's hedged bytes
        expect(r.p50ChunkMs).not.toBeNull();
        expect(r.hedgedBytes).not.toBeNull();
        expect(r.cpuSeconds).toBeGreaterThan(0);
      }
    }
    const single = report.rows.find((r) => r.client === 'single-node')!;
    expect(single.bytesPerNode.slice(1).every((b) => b < 64 * 1024)).toBe(true); // probes at most
    expect(report.wireBytes).toBe(report.size + report.chunks * 28);
    expect(report.machine.nproc).toBeGreaterThan(0);
    expect(report.machine.chromium).toMatch(/chromium/i);
  });
});
