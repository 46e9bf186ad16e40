import { defineProject } from 'vitest/config';

// The page's pure logic in Node (start gate, media sniffing, library search); the page itself
// is tested in Chromium by test/browser.
export default defineProject({
  test: { name: 'web', include: ['**/*.test.ts'], environment: 'node' },
});
