import { defineProject } from 'vitest/config';

// Browser tests: Debian's Chromium driven by playwright-core (and WebKitGTK over WebDriver,
// webkit.ts) against the real local stack, with the built PWA and its service worker. One
// file at a time: each starts a stack and a browser.
export default defineProject({
  test: {
    name: 'browser', include: ['**/*.test.ts'], environment: 'node',
    testTimeout: 180000, hookTimeout: 180000, fileParallelism: false, globalSetup: ['../build-web.setup.ts'],
  },
});
