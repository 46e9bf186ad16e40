import { fileURLToPath } from 'node:url';
import { defineProject } from 'vitest/config';

const root = (p: string) => fileURLToPath(new URL(`../../${p}`, import.meta.url));

// The self-hosted node on Node: the node-protocol suite (the same files the edge project runs
// against the Worker) with `#node-target` mapped to a node over a temporary folder, and the
// tests of what only a node on disk has (crashes, a full disk, corrupt files, joining, reports).
export default defineProject({
  root: root('test'),
  resolve: { alias: { '#node-target': root('test/selfhost/disk-node-target.ts') } },
  test: {
    name: 'selfhost', include: ['selfhost/**/*.test.ts', 'node-protocol/**/*.test.ts'], environment: 'node',
    testTimeout: 120000, hookTimeout: 120000,
  },
});
