// The shell before and without its service worker: a first visit (no controller at load) waits
// for the claim and plays through the proxy; a hard reload (active worker, page not controlled)
// plays with the in-page engine at once. Also the library's search (installability: install-update.test.ts).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { startTestStack, type TestStack } from '../system/local-stack.ts';
import { launchChromium, openPage, proxyMode } from './chromium.ts';
import { makeVideo } from './media.ts';
import { playerReport, pressPlay, waitForTime } from './play.ts';
import { uploadFile, type Uploaded } from './upload.ts';

describe('first visit, hard reload, library', () => {
  let stack: TestStack;
  let browser: Browser;
  let video: Uploaded;

  beforeAll(async () => {
    [stack, browser] = await Promise.all([startTestStack(3), launchChromium()]);
    video = await uploadFile(stack, makeVideo('webm', 12), 'video/webm');
  });
  afterAll(async () => {
    await browser?.close();
    await stack?.dispose();
  });

  it('plays on the first visit, then again after a hard reload without the service worker', async () => {
    const { context, page } = await openPage(browser, 'about:blank');
    try {
      await page.addInitScript(() => { (window as unknown as { controlledAtLoad: boolean }).controlledAtLoad = !!navigator.serviceWorker?.controller; });
      await page.goto(`${stack.portalUrl}/#/play/${video.id}`);
      expect(await page.evaluate(() => (window as unknown as { controlledAtLoad: boolean }).controlledAtLoad)).toBe(false);
      expect(await proxyMode(page)).toBe('service-worker');
      await pressPlay(page);
      await waitForTime(page, 5.2);

      // What a hard reload does: the page loads past its service worker, uncontrolled.
      const cdp = await context.newCDPSession(page);
      await cdp.send('Network.enable');
      await cdp.send('Network.setBypassServiceWorker', { bypass: true });
      await page.reload();
      expect(await page.evaluate(() => !!navigator.serviceWorker.controller)).toBe(false);
      expect(await proxyMode(page)).toBe('in-page');
      await pressPlay(page);
      await waitForTime(page, 5.2);
      expect((await playerReport(page)).mode).toBe('in-page');
    } finally {
      await context.close();
    }
  });

  it('lists the library and filters it by name, type and size', async () => {
    const text = await uploadFile(stack, makeTextFile(), 'text/plain');
    const { context, page } = await openPage(browser, `${stack.portalUrl}/`);
    try {
      const names = () => page.locator('ul.items li a.name').allTextContents();
      await page.waitForSelector('ul.items li');
      expect((await names()).sort()).toEqual([text.name, video.name].sort());
      await page.fill('input[type=search]', text.name.slice(0, 6));
      expect(await names()).toEqual([text.name]);
      await page.fill('input[type=search]', '');
      await page.selectOption('select[aria-label=type]', 'video');
      expect(await names()).toEqual([video.name]);
      await page.selectOption('select[aria-label=type]', 'all');
      await page.selectOption('select[aria-label=size]', 'small');
      expect(await names()).toHaveLength(2);
      await page.selectOption('select[aria-label=size]', 'huge');
      expect(await names()).toHaveLength(0);
      // A TV remote: from the search field, arrows walk the filters to the first item; Enter opens it.
      await page.selectOption('select[aria-label=size]', 'any');
      await page.focus('input[type=search]');
      for (let i = 0; i < 3; i++) await page.keyboard.press('ArrowDown');
      expect(await page.evaluate(() => document.activeElement?.className)).toBe('name');
      const first = await page.evaluate(() => (document.activeElement as HTMLAnchorElement).getAttribute('href'));
      await page.keyboard.press('Enter');
      await page.waitForFunction((h) => location.hash === h, first);
      await page.goto(`${stack.portalUrl}/#/`);
      // The plain URL of an item is served by the service worker: the text comes back whole.
      const body = await page.evaluate(async (id) => (await fetch(`/c/${id}`)).text(), text.id);
      expect(body).toBe(text.bytes.toString('utf8'));
    } finally {
      await context.close();
    }
  });

  it('answers a content URL opened directly on a first visit, once its service worker runs', async () => {
    const text = await uploadFile(stack, makeTextFile(), 'text/plain');
    const url = `${stack.portalUrl}/c/${text.id}/${text.name}`;
    const { context, page } = await openPage(browser, 'about:blank');
    try {
      const answered = page.waitForResponse((r) => r.url() === url && r.fromServiceWorker());
      await page.goto(url);
      await answered;
      await page.waitForFunction(() => document.body?.innerText.startsWith('bunsan notes'), null, { timeout: 30_000 });
      // The worker's answer is sandboxed: the text is shown under an origin of its own, not the app's.
      expect(await page.evaluate(() => self.origin)).toBe('null');
      expect((await page.evaluate(() => document.body.innerText)).length).toBeGreaterThan(1000);
    } finally {
      await context.close();
    }
  });
});

function makeTextFile(): string {
  const path = join(mkdtempSync(join(tmpdir(), 'bunsan-text-')), 'notes-readme.txt');
  writeFileSync(path, 'bunsan notes\n'.repeat(20000));
  return path;
}
