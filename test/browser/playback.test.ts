// Progressive playback through MediaSource on the real stack: WebM (VP9/Opus) and fragmented
// MP4 (H.264/AAC) through the service worker, and with no service worker at all (the page runs
// the engine itself). Each reports its time from pressing play to the first frame. A seek goes
// through the index the upload put in the manifest; the chunk map shows what is buffered.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { createApiClient } from '../../protocol/api-client.ts';
import type { Manifest } from '../../protocol/manifest.ts';
import { startTestStack, type TestStack } from '../system/local-stack.ts';
import { launchChromium, openPage, proxyMode } from './chromium.ts';
import { makeVideo } from './media.ts';
import { playerReport, pressPlay, waitForTime } from './play.ts';
import { chunkOf, seekThroughIndex } from './seek-check.ts';
import { uploadFile, type Uploaded } from './upload.ts';

describe('MSE playback', () => {
  let stack: TestStack;
  let browser: Browser;
  const media: Record<string, Uploaded> = {};
  const manifests: Record<string, Manifest> = {};

  beforeAll(async () => {
    [stack, browser] = await Promise.all([startTestStack(3), launchChromium()]);
    media.webm = await uploadFile(stack, makeVideo('webm', 12), 'video/webm');
    media.fmp4 = await uploadFile(stack, makeVideo('fmp4', 12), 'video/mp4');
    const api = createApiClient({ portal: stack.portalUrl, fetch: (u, i) => fetch(u, i) });
    for (const f of ['webm', 'fmp4']) manifests[f] = await api.manifest(media[f].id);
  });
  afterAll(async () => {
    await browser?.close();
    await stack?.dispose();
  });

  for (const [format, mime] of [['webm', 'video/webm; codecs="vp9,opus"'], ['fmp4', 'video/mp4; codecs="avc1.42c00d,mp4a.40.2"']] as const) {
    it(`${format} plays through the service worker past 5 s`, async () => {
      const { context, page, logs } = await openPage(browser, `${stack.portalUrl}/#/play/${media[format].id}`);
      try {
        expect(await proxyMode(page)).toBe('service-worker');
        await pressPlay(page);
        await waitForTime(page, 5.2);
        const r = await playerReport(page);
        expect(r.path).toBe('mse');
        expect(r.mime).toBe(mime);
        expect(r.firstFrameMs).toBeGreaterThan(0);
        expect(Number.isFinite(r.needed)).toBe(true);
        // The proxy at work: every chunk coloured by the node that delivered it, nodes listed, chart drawn.
        const map = await page.evaluate(() => ({
          cells: document.querySelectorAll('.chunk-map span').length,
          delivered: document.querySelectorAll('.chunk-map span[data-node]').length,
          nodes: document.querySelectorAll('.node-table .node').length,
          peak: Number(document.querySelector<HTMLCanvasElement>('canvas.throughput-chart')?.dataset.peak ?? 0),
        }));
        expect(map.delivered).toBe(map.cells);
        expect(map.nodes).toBeGreaterThanOrEqual(2);
        expect(map.peak).toBeGreaterThan(0);
        // What is in the SourceBuffer: the chunk under the play head among them, and the cells say the same.
        const buffered = await page.evaluate(() => ({
          chunks: window.bunsanPlayer!.bufferedChunks,
          marked: [...document.querySelectorAll('.chunk-map span')].flatMap((c, i) => (c.classList.contains('buffered') ? [i] : [])),
          time: document.querySelector('video')!.currentTime,
        }));
        const m = manifests[format];
        const here = m.media!.seek.filter(([t]) => t <= buffered.time).at(-1)!;
        expect(buffered.chunks).toContain(chunkOf(m, here[1]));
        expect(buffered.chunks.length).toBeGreaterThan(m.chunks.length / 2);
        expect(buffered.marked).toEqual(buffered.chunks);
        console.log(`${format}: first frame ${Math.round(r.firstFrameMs!)} ms after play (service worker), buffer needed ${r.needed?.toFixed(2)} s`);
      } finally {
        if (logs.length) console.log(`${format} page console:\n${logs.join('\n')}`);
        await context.close();
      }
    });

    // ?ahead=2 keeps the SourceBuffer short, so 75 % is not buffered and the seek goes through the index.
    it(`${format} seeks to 75 % through the upload's index and plays from there`, async () => {
      const { context, page } = await openPage(browser, `${stack.portalUrl}/#/play/${media[format].id}?ahead=2`);
      try {
        expect(await proxyMode(page)).toBe('service-worker');
        await pressPlay(page);
        await seekThroughIndex(page, manifests[format], 9);
      } finally {
        await context.close();
      }
    });

    it(`${format} plays with no service worker (the engine runs in the page)`, async () => {
      const { context, page } = await openPage(browser, `${stack.portalUrl}/#/play/${media[format].id}`, { blockServiceWorkers: true });
      try {
        expect(await proxyMode(page)).toBe('in-page');
        await pressPlay(page);
        await waitForTime(page, 5.2);
        const r = await playerReport(page);
        expect(r.path).toBe('mse');
        console.log(`${format}: first frame ${Math.round(r.firstFrameMs!)} ms after play (in-page engine)`);
      } finally {
        await context.close();
      }
    });
  }
});
