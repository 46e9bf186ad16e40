import { defineProject } from 'vitest/config';

// System tests drive the real local stack (workerd, R2, D1, Durable Objects) through the CLI.
export default defineProject({
  test: {
    name: 'system', include: ['**/*.test.ts'], environment: 'node',
    testTimeout: 300000, hookTimeout: 120000, fileParallelism: false, globalSetup: ['../build-web.setup.ts'],
  },
});
