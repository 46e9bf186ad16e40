// Upload from the page: the file is sealed and split in a Web Worker and sent to the nodes; a
// reload in the middle interrupts it; picking the same file again resumes without sending the
// chunks already stored; then the uploaded video plays.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { startTestStack, type TestStack } from '../system/local-stack.ts';
import { launchChromium, openPage, proxyMode } from './chromium.ts';
import { makeVideo } from './media.ts';
import { pressPlay, waitForTime } from './play.ts';

const appData = (page: import('playwright-core').Page) => page.evaluate(() => ({ ...document.getElementById('app')!.dataset }));

describe('upload from the page', () => {
  let stack: TestStack;
  let browser: Browser;

  beforeAll(async () => {
    [stack, browser] = await Promise.all([startTestStack(3), launchChromium()]);
  });
  afterAll(async () => {
    await browser?.close();
    await stack?.dispose();
  });

  it('uploads in a worker, resumes after a reload mid-upload, then plays', async () => {
    const file = makeVideo('webm', 40, 5000);
    const { context, page, logs } = await openPage(browser, `${stack.portalUrl}/#/upload`);
    try {
      await proxyMode(page);
      await page.fill('input[type=password]', stack.token);
      await page.setInputFiles('input[type=file]', file);
      await page.selectOption('select[aria-label="chunk size"]', String(256 * 1024));
      await page.click('button.start-upload');
      await page.waitForFunction(() => Number(document.getElementById('app')!.dataset.chunksDone ?? 0) >= 8, null, { polling: 20, timeout: 60_000 });
      expect((await appData(page)).state).toBe('uploading');
      await page.reload(); // the worker dies with the page: the upload is interrupted

      await proxyMode(page);
      await page.waitForSelector('ul.unfinished li');
      expect(await page.inputValue('input[type=password]')).toBe(stack.token);
      await page.setInputFiles('input[type=file]', file);
      await page.selectOption('select[aria-label="chunk size"]', String(256 * 1024));
      await page.click('button.start-upload');
      await page.waitForFunction(() => ['done', 'error'].includes(document.getElementById('app')!.dataset.state ?? ''), null, { timeout: 120_000 });
      const data = await appData(page);
      const status = await page.textContent('.upload-status');
      expect(data.state, status ?? '').toBe('done');
      expect(Number(data.resumedFrom)).toBeGreaterThanOrEqual(8);
      const [, sent, skipped] = /(\d+) chunks sent, (\d+) already there/.exec(status!)!.map(Number);
      expect(skipped).toBeGreaterThanOrEqual(8);
      console.log(`page upload resumed: ${skipped} chunks already stored, ${sent} sent after the reload`);
      expect(await page.locator('ul.unfinished li').count()).toBe(0);

      await page.click('a.uploaded');
      await pressPlay(page);
      await waitForTime(page, 5.2);
    } finally {
      if (logs.length) console.log(logs.join('\n'));
      await context.close();
    }
  });
});
