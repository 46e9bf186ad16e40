// The self-hosted node's benchmark (npm run bench:node), in miniature, so that it cannot rot:
// both servers start over the same chunk files, serve every chunk byte for byte, and every
// figure is reported. No timing assertions: benchmarks are not tests.
import { describe, expect, it } from 'vitest';
import { runNodeServeBench } from '../../bench/node-serve/harness.ts';

describe('npm run bench:node, in miniature', () => {
  it('measures the node and the static server over the same files and reports every figure', async () => {
    const r = await runNodeServeBench({ chunks: 12, chunkBytes: 1024 * 1024, concurrency: 4, runs: 2, passChunks: 8 });
    for (const s of [r.static, r.node]) {
      expect(s.mibps).toHaveLength(2);
      expect(s.medianMibps).toBeGreaterThan(0);
      expect(s.memoryPassBytes).toBe(12 * 1024 * 1024);
      for (const v of Object.values(s.rss)) expect(v).toBeGreaterThan(0);
    }
    expect(r.ratio).toBeGreaterThan(0);
    expect(r.workingSetBytes).toBe(12 * 1024 * 1024);
  });
});
