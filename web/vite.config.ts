// The PWA's pages. The service worker is bundled separately (scripts/web/build.ts) to a fixed
// /sw.js, because its URL is its identity and must not carry a content hash.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  publicDir: 'public',
  logLevel: 'warn',
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022', sourcemap: true },
});
