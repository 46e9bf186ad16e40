// The service worker's throughput on a 64 MiB item against a plain same-origin fetch of the
// same bytes, side by side in the same browser. The page is served through a small proxy in
// front of the portal that also serves the file itself, so both fetches are same-origin: one
// answered by the service worker (three nodes, verify, decrypt), one by plain HTTP. Beside it,
// the item's chunks fetched straight from the nodes in the page, once with the token in an
// Authorization header (a CORS preflight before every chunk) and once in the query as the
// engine sends it (none): what the preflights cost on their own.
import { createReadStream, statSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { createApiClient } from '../../protocol/api-client.ts';
import { chunkRequest } from '../../protocol/engine/fetch-chunk.ts';
import { chunkUrl } from '../../protocol/node-protocol.ts';
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
      const mibs = (ms: number, bytes = SIZE) => (bytes / 1024 / 1024 / (ms / 1000)).toFixed(1);
      for (const k of ['sw', 'plain']) for (const r of results[k]) expect(r.bytes).toBe(SIZE);
      console.log(`64 MiB in Chromium: service worker ${mibs(best('sw'))} MiB/s (${Math.round(best('sw'))} ms), plain same-origin fetch ${mibs(best('plain'))} MiB/s (${Math.round(best('plain'))} ms)`
        + ` [rounds: sw ${results.sw.map((r) => mibs(r.ms)).join(', ')}; plain ${results.plain.map((r) => mibs(r.ms)).join(', ')}]`);

      // The same chunks straight from the nodes, 8 requests at a time, bypassing the HTTP cache.
      const m = await createApiClient({ portal: stack.portalUrl, fetch: (u, i) => fetch(u, i) }).manifest(item.id);
      const base = (i: number) => m.nodes.find((n) => n.id === m.chunks[i].nodes[i % m.chunks[i].nodes.length])!.url;
      // `r` makes each round's URLs new, so no preflight is answered from the browser's cache.
      const asQuery = (r: number) => m.chunks.map((c, i) => `${chunkRequest(base(i), c.hash, m.tokens.get, 0)[0]}&r=${r}`);
      const asHeader = (r: number) => m.chunks.map((c, i) => `${chunkUrl(base(i), c.hash)}?r=${r}`);
      const direct = (urls: string[], auth: string | null) => page.evaluate(async ({ urls, auth }) => {
        const t0 = performance.now();
        let n = 0;
        let next = 0;
        await Promise.all(Array.from({ length: 8 }, async () => {
          while (next < urls.length) {
            const res = await fetch(urls[next++], { cache: 'no-store', ...(auth ? { headers: { authorization: auth } } : {}) });
            if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
            const got = (await res.arrayBuffer()).byteLength; // read before adding: `n +=` would read n before the await
            n += got;
          }
        }));
        return { bytes: n, ms: performance.now() - t0 };
      }, { urls, auth });
      const sealed = m.chunks.reduce((a, c) => a + c.sealedLength, 0);
      const header: number[] = [];
      const query: number[] = [];
      for (let r = 0; r < 2; r++) {
        for (const [out, got] of [[header, await direct(asHeader(r), `Bearer ${m.tokens.get}`)], [query, await direct(asQuery(r), null)]] as const) {
          expect(got.bytes).toBe(sealed);
          out.push(got.ms);
        }
      }
      const rounds = (ms: number[]) => ms.map((t) => mibs(t, sealed)).join(', ');
      console.log(`${m.chunks.length} chunks straight from the nodes, 8 at a time: token in a header (a preflight each) ${mibs(Math.min(...header), sealed)} MiB/s, `
        + `token in the query ${mibs(Math.min(...query), sealed)} MiB/s [rounds: header ${rounds(header)}; query ${rounds(query)}]`);
    } finally {
      await context.close();
    }
  });
});
