import { defineProject } from 'vitest/config';

// The service worker's handler in Node, with fake portal and nodes behind an injected fetch.
export default defineProject({
  test: { name: 'worker', include: ['**/*.test.ts'], environment: 'node' },
});
