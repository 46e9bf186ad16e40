import { defineConfig } from 'vitest/config';

// One project per layer: protocol units in Node, edge tests inside workerd, system tests against
// the real local stack through the CLI.
export default defineConfig({
  test: {
    projects: ['test/protocol/vitest.config.ts', 'test/edge/vitest.config.ts', 'test/system/vitest.config.ts'],
  },
});
