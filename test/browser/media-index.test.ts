// The index the upload builds, seen from the player: a WebM written as a live stream (no Cues,
// no duration) still seeks straight to 75 % because the manifest carries its index; a plain
// MP4 is said to be not streamable through MediaSource and plays from the service worker's URL;
// and a saved copy keeps the index, so seeking works with the whole stack down.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { createApiClient } from '../../protocol/api-client.ts';
import type { Manifest } from '../../protocol/manifest.ts';
import { startTestStack, type TestStack } from '../system/local-stack.ts';
import { launchChromium, openPage, proxyMode } from './chromium.ts';
import { makeVideo } from './media.ts';
import { playerReport, pressPlay, waitForTime } from './play.ts';
import { seekThroughIndex } from './seek-check.ts';
import { uploadFile, type Uploaded } from './upload.ts';

const CUES_ID = Buffer.from([0x1c, 0x53, 0xbb, 0x6b]);

describe('the upload-built media index in the player', () => {
  let stack: TestStack;
  let browser: Browser;
  let live: Uploaded;
  let plain: Uploaded;
  let liveManifest: Manifest;
  let stopped = false;

  beforeAll(async () => {
    [stack, browser] = await Promise.all([startTestStack(3), launchChromium()]);
    live = await uploadFile(stack, makeVideo('webm-live', 12), 'video/webm');
    plain = await uploadFile(stack, makeVideo('mp4', 12), 'video/mp4');
    liveManifest = await createApiClient({ portal: stack.portalUrl, fetch: (u, i) => fetch(u, i) }).manifest(live.id);
  });
  afterAll(async () => {
    await browser?.close();
    if (stopped) await stack?.dispose().catch(() => {}); // the portal was disposed already
    else await stack?.dispose();
  });

  it('seeks to 75 % of a WebM that has no Cues of its own', async () => {
    expect(readFileSync(makeVideo('webm-live', 12)).includes(CUES_ID)).toBe(false);
    expect(liveManifest.media).toMatchObject({ container: 'webm', streamable: true, mime: 'video/webm; codecs="vp9,opus"' });
    expect(liveManifest.media!.seek.length).toBeGreaterThanOrEqual(5);
    const { context, page, logs } = await openPage(browser, `${stack.portalUrl}/#/play/${live.id}?ahead=2`);
    try {
      expect(await proxyMode(page)).toBe('service-worker');
      await pressPlay(page);
      const r = await seekThroughIndex(page, liveManifest, 9);
      console.log(`webm without Cues: first frame ${Math.round(r.firstFrameMs!)} ms after play, seek to 9 s fetched from byte ${r.opens![1]} of ${live.bytes.length}`);
    } finally {
      if (logs.length) console.log(logs.join('\n'));
      await context.close();
    }
  });

  it('says a plain MP4 is not streamable through MediaSource and plays it from the service worker\'s URL', async () => {
    const m = await createApiClient({ portal: stack.portalUrl, fetch: (u, i) => fetch(u, i) }).manifest(plain.id);
    expect(m.media).toMatchObject({ container: 'mp4', streamable: false });
    const { context, page } = await openPage(browser, `${stack.portalUrl}/#/play/${plain.id}`);
    try {
      expect(await proxyMode(page)).toBe('service-worker');
      await pressPlay(page);
      await waitForTime(page, 2);
      const r = await playerReport(page);
      expect(r.path).toBe('element');
      expect(r.opens).toEqual([]); // MediaSource was not tried: the index said so before any byte was read
      expect(r.unsupported).toMatch(/not fragmented/);
      expect(await page.textContent('.stats + p')).toMatch(/^Not streamable through MediaSource: .*service worker's URL/);
      expect(await page.evaluate(() => document.querySelector('video')!.currentSrc)).toContain(`/c/${plain.id}`);
    } finally {
      await context.close();
    }
  });

  it('seeks in a saved copy with the whole stack down', async () => {
    const { context, page, logs } = await openPage(browser, `${stack.portalUrl}/#/play/${live.id}?ahead=2`);
    try {
      expect(await proxyMode(page)).toBe('service-worker');
      await page.click('button.save-offline');
      await page.waitForSelector('section.offline[data-saved=complete]', { timeout: 60_000 });
      await stack.stop();
      stopped = true;
      await page.reload();
      expect(await proxyMode(page)).toBe('service-worker');
      expect(await page.textContent('h1 + p')).toContain('saved copy'); // the portal did not answer
      await pressPlay(page);
      await seekThroughIndex(page, liveManifest, 9);
    } finally {
      if (logs.length) console.log(logs.join('\n'));
      await context.close();
    }
  });
});
