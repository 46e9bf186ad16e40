// The service worker's throughput on a 64 MiB item against a plain same-origin fetch of the
// same bytes, side by side in the same browser. The page is served through a small proxy in
// front of the portal that also serves the file itself, so both fetches are same-origin: one
// answered by the service worker (three nodes, verify, decrypt), one by plain HTTP.
import { createReadStream, statSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { startTestStack, type TestStack } from '../system/local-stack.ts';
import { launchChromium, openPage, proxyMode } from './chromium.ts';
import { uploadFile, type Uploaded } from './upload.ts';

const SIZE = 64 * 1024 * 1024;

function proxy(portal: string, file: string): Promise<{ server: Server; url: string }> {
  const server = createServer(async (req, res) => {
    if (req.url === '/bench/file') {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(statSync(file).size), 'cache-control': 'no-store' });
      createReadStream(file).pipe(res);
      return;
    }
    const upstream = await fetch(portal + req.url, { method: req.method, headers: { accept: req.headers.accept ?? '*/*' } });
    res.writeHead(upstream.status, Object.fromEntries([...upstream.headers].filter(([k]) => k !== 'content-encoding' && k !== 'content-length')));
    if (upstream.body) Readable.fromWeb(upstream.body as import('node:stream/web').ReadableStream).pipe(res);
    else res.end();
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => {
    const a = server.address() as { port: number };
    resolve({ server, url: `http://127.0.0.1:${a.port}` });
  }));
}

describe('throughput', () => {
  let stack: TestStack;
  let browser: Browser;
  let item: Uploaded;
  let dir: string;
  let front: { server: Server; url: string };

  beforeAll(async () => {
    [stack, browser] = await Promise.all([startTestStack(3), launchChromium()]);
    dir = mkdtempSync(join(tmpdir(), 'bunsan-bench-'));
    const file = join(dir, 'bench.bin');
    writeFileSync(file, randomBytes(SIZE));
    item = await uploadFile(stack, file, 'application/octet-stream', { chunkSize: 1024 * 1024 });
    front = await proxy(stack.portalUrl, file);
  });
  afterAll(async () => {
    front?.server.close();
    await browser?.close();
    await stack?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reports the service worker against a plain fetch of the same 64 MiB', async () => {
    const { context, page } = await openPage(browser, `${front.url}/`);
    try {
      expect(await proxyMode(page)).toBe('service-worker');
      const time = (url: string) => page.evaluate(async (url) => {
        const t0 = performance.now();
        const reader = (await fetch(url)).body!.getReader();
        let n = 0;
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          n += value.length;
        }
        return { bytes: n, ms: performance.now() - t0 };
      }, url);
      const results: Record<string, { bytes: number; ms: number }[]> = { sw: [], plain: [] };
      for (let round = 0; round < 2; round++) {
        results.plain.push(await time('/bench/file'));
        results.sw.push(await time(`/c/${item.id}`));
      }
      const best = (k: string) => Math.min(...results[k].map((r) => r.ms));
      const mibs = (ms: number) => (SIZE / 1024 / 1024 / (ms / 1000)).toFixed(1);
      for (const k of ['sw', 'plain']) for (const r of results[k]) expect(r.bytes).toBe(SIZE);
      console.log(`64 MiB in Chromium: service worker ${mibs(best('sw'))} MiB/s (${Math.round(best('sw'))} ms), plain same-origin fetch ${mibs(best('plain'))} MiB/s (${Math.round(best('plain'))} ms)`);
    } finally {
      await context.close();
    }
  });
});
