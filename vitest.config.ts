import { defineConfig } from 'vitest/config';

// One project per layer: protocol units in Node, edge tests inside workerd, the self-hosted node on
// Node (the node-protocol suite runs in both of those), system tests against
// the real local stack through the CLI, browser tests of the PWA in Chromium on that stack.
export default defineConfig({
  test: {
    projects: ['test/protocol/vitest.config.ts', 'test/edge/vitest.config.ts', 'test/selfhost/vitest.config.ts', 'test/system/vitest.config.ts',
      'test/worker/vitest.config.ts', 'test/web/vitest.config.ts', 'test/browser/vitest.config.ts'],
  },
});
