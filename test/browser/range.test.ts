// The service worker as an HTTP server for content URLs: Range answers byte-exact against the
// source file (single, open-ended, suffix, past the end), HEAD, 416; repeated ranges served
// from its window of decrypted chunks; and a non-fragmented MP4 played by <video src>, which
// makes Chromium send its several open-ended Range requests.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { createApiClient } from '../../protocol/api-client.ts';
import { startTestStack, type TestStack } from '../system/local-stack.ts';
import { launchChromium, openPage, proxyMode } from './chromium.ts';
import { makeVideo } from './media.ts';
import { playerReport, pressPlay, waitForTime } from './play.ts';
import { uploadFile, type Uploaded } from './upload.ts';

interface Answer { status: number; headers: Record<string, string>; sha: string; length: number; chunkRequests: number }

/** Fetches a URL in the page (so through the service worker) and counts the engine's chunk requests meanwhile. */
function fetchInPage(page: Page, url: string, init: { method?: string; range?: string } = {}): Promise<Answer> {
  return page.evaluate(async ({ url, init }) => {
    let chunkRequests = 0;
    const ch = new BroadcastChannel('bunsan-engine');
    ch.onmessage = (e) => { if (e.data?.event?.type === 'chunk-request') chunkRequests++; };
    const res = await fetch(url, { method: init.method ?? 'GET', headers: init.range ? { range: init.range } : {} });
    const body = new Uint8Array(await res.arrayBuffer());
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', body));
    await new Promise((r) => setTimeout(r, 100)); // let the last broadcast events arrive
    ch.close();
    return {
      status: res.status, headers: Object.fromEntries(res.headers), length: body.length, chunkRequests,
      sha: Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join(''),
    };
  }, { url, init });
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('content URLs answered by the service worker', () => {
  let stack: TestStack;
  let browser: Browser;
  let page: Page;
  let video: Uploaded;
  let plainMp4: Uploaded;

  beforeAll(async () => {
    [stack, browser] = await Promise.all([startTestStack(3), launchChromium()]);
    video = await uploadFile(stack, makeVideo('webm', 12), 'video/webm');
    plainMp4 = await uploadFile(stack, makeVideo('mp4', 12), 'video/mp4');
    ({ page } = await openPage(browser, `${stack.portalUrl}/`));
    expect(await proxyMode(page)).toBe('service-worker');
  });
  afterAll(async () => {
    await browser?.close();
    await stack?.dispose();
  });

  it('answers ranges byte-exact: whole, single, across chunks, open-ended, suffix, clamped', async () => {
    const size = video.bytes.length;
    const cases: [string | undefined, number, number][] = [
      [undefined, 0, size - 1], ['bytes=0-0', 0, 0], ['bytes=100-65635', 100, 65635], ['bytes=65536-131071', 65536, 131071],
      ['bytes=500000-', 500000, size - 1], ['bytes=-1000', size - 1000, size - 1], ['bytes=-99999999', 0, size - 1],
      [`bytes=${size - 10}-${size + 5000}`, size - 10, size - 1], ['bytes=0-', 0, size - 1],
    ];
    for (const [range, start, end] of cases) {
      const a = await fetchInPage(page, `/c/${video.id}`, { range });
      const want = video.bytes.subarray(start, end + 1);
      expect(a.status, range).toBe(range ? 206 : 200);
      expect(a.length, range).toBe(want.length);
      expect(a.sha, range).toBe(sha(want));
      expect(a.headers['content-length'], range).toBe(String(want.length));
      expect(a.headers['content-type']).toBe('video/webm');
      expect(a.headers['accept-ranges']).toBe('bytes');
      if (range) expect(a.headers['content-range'], range).toBe(`bytes ${start}-${end}/${size}`);
    }
  });

  it('answers 416 past the end, HEAD without a body, and the /c/{id}/{name} form', async () => {
    const size = video.bytes.length;
    const past = await fetchInPage(page, `/c/${video.id}`, { range: `bytes=${size}-` });
    expect(past.status).toBe(416);
    expect(past.headers['content-range']).toBe(`bytes */${size}`);
    const head = await fetchInPage(page, `/c/${video.id}`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers['content-length']).toBe(String(size));
    expect(head.length).toBe(0);
    const named = await fetchInPage(page, `/c/${video.id}/${encodeURIComponent(video.name)}`, { range: 'bytes=10-19' });
    expect(named.sha).toBe(sha(video.bytes.subarray(10, 20)));
    const unknown = await fetchInPage(page, `/c/${'0'.repeat(32)}`);
    expect(unknown.status).toBe(404);
  });

  it('serves a repeated open-ended range from its window of decrypted chunks', async () => {
    const first = await fetchInPage(page, `/c/${plainMp4.id}`, { range: 'bytes=300000-' });
    expect(first.chunkRequests).toBeGreaterThan(0);
    const again = await fetchInPage(page, `/c/${plainMp4.id}`, { range: 'bytes=300000-' });
    expect(again.sha).toBe(first.sha);
    expect(again.sha).toBe(sha(plainMp4.bytes.subarray(300000)));
    expect(again.chunkRequests).toBe(0);
  });

  it('opens a private content only with the viewer\'s grant in the link', async () => {
    const secret = await uploadFile(stack, makeVideo('webm', 12), 'video/webm', { visibility: 'private' });
    const api = createApiClient({ portal: stack.portalUrl, token: stack.token, fetch: (u, i) => fetch(u, i) });
    const { grant } = await api.grant(secret.id, 3600);
    expect((await fetchInPage(page, `/c/${secret.id}`, { range: 'bytes=0-99' })).status).toBeGreaterThanOrEqual(400);
    const ok = await fetchInPage(page, `/c/${secret.id}?grant=${encodeURIComponent(grant)}`, { range: 'bytes=0-99' });
    expect(ok.status).toBe(206);
    expect(ok.sha).toBe(sha(secret.bytes.subarray(0, 100)));
    const { context, page: p } = await openPage(browser, `${stack.portalUrl}/#/play/${secret.id}?grant=${encodeURIComponent(grant)}`);
    try {
      await proxyMode(p);
      await pressPlay(p);
      await waitForTime(p, 2);
    } finally {
      await context.close();
    }
  });

  it('plays a non-fragmented MP4 through <video src> from the service worker', async () => {
    const { context, page: p } = await openPage(browser, `${stack.portalUrl}/#/play/${plainMp4.id}`);
    try {
      expect(await proxyMode(p)).toBe('service-worker');
      await pressPlay(p);
      await waitForTime(p, 3);
      const r = await playerReport(p);
      expect(r.path).toBe('element');
      expect(await p.evaluate(() => document.querySelector('video')!.currentSrc)).toContain(`/c/${plainMp4.id}`);
    } finally {
      await context.close();
    }
  });
});
