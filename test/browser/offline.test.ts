// Offline: save an item (progress to complete), check that what is stored is ciphertext and a
// wrapped manifest, stop the whole stack, reload, and play from the saved copy; the library
// lists it; removing it frees the space.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { startTestStack, type TestStack } from '../system/local-stack.ts';
import { samples } from '../system/files.ts';
import { launchChromium, openPage, proxyMode } from './chromium.ts';
import { makeVideo } from './media.ts';
import { playerReport, pressPlay, waitForTime } from './play.ts';
import { uploadFile, type Uploaded } from './upload.ts';

describe('offline', () => {
  let stack: TestStack;
  let browser: Browser;
  let video: Uploaded;
  let stopped = false;

  beforeAll(async () => {
    [stack, browser] = await Promise.all([startTestStack(3), launchChromium()]);
    video = await uploadFile(stack, makeVideo('webm', 12), 'video/webm');
  });
  afterAll(async () => {
    await browser?.close();
    if (stopped) await stack?.dispose().catch(() => {}); // the portal was disposed already
    else await stack?.dispose();
  });

  it('saves an item, stores only ciphertext, and plays it with the whole stack down', async () => {
    const { context, page, logs } = await openPage(browser, `${stack.portalUrl}/#/play/${video.id}`);
    try {
      expect(await proxyMode(page)).toBe('service-worker');
      await page.click('button.save-offline');
      await page.waitForSelector('section.offline[data-saved=complete]', { timeout: 60_000 });
      expect(await page.textContent('.offline-status')).toMatch(/^saved: [\d.]+ (KiB|MiB) encrypted/);

      const needles = samples(video.bytes, 64).map((b) => [...b]);
      const atRest = await page.evaluate(async (needles) => {
        const db = await new Promise<IDBDatabase>((res, rej) => { const r = indexedDB.open('bunsan-offline'); r.onsuccess = () => res(r.result); r.onerror = rej; });
        const all = <T>(store: string) => new Promise<T[]>((res) => { const r = db.transaction(store).objectStore(store).getAll(); r.onsuccess = () => res(r.result as T[]); });
        const chunks = await all<{ sealed: Uint8Array }>('chunks');
        const items = await all<Record<string, unknown>>('items');
        const device = await new Promise<CryptoKey>((res) => { const r = db.transaction('keys').objectStore('keys').get('device'); r.onsuccess = () => res(r.result); });
        const has = (hay: Uint8Array, n: number[]) => { outer: for (let i = 0; i + n.length <= hay.length; i++) { for (let j = 0; j < n.length; j++) if (hay[i + j] !== n[j]) continue outer; return true; } return false; };
        return {
          chunks: chunks.length,
          plaintextFound: chunks.some((c) => needles.some((n) => has(c.sealed, n))),
          itemJson: JSON.stringify(items),
          deviceKeyExtractable: device.extractable,
        };
      }, needles);
      const manifest = await (await fetch(`${stack.portalUrl}/api/v1/contents/${video.id}/manifest`)).json() as { key: { secret: string }; chunks: unknown[] };
      expect(atRest.chunks).toBe(manifest.chunks.length);
      expect(atRest.plaintextFound).toBe(false);
      expect(atRest.itemJson).not.toContain(manifest.key.secret);
      expect(atRest.deviceKeyExtractable).toBe(false);

      await stack.stop();
      stopped = true;
      await page.reload();
      expect(await proxyMode(page)).toBe('service-worker');
      await pressPlay(page);
      await waitForTime(page, 5.2);
      expect((await playerReport(page)).error ?? null).toBeNull();

      await page.goto(`${stack.portalUrl}/#/`);
      await page.waitForSelector('ul.items li');
      expect(await page.locator('ul.items li a.name').allTextContents()).toEqual([video.name]);

      await page.goto(`${stack.portalUrl}/#/play/${video.id}`);
      await page.click('button.remove-offline');
      await page.waitForSelector('section.offline[data-saved=none]');
    } finally {
      if (logs.length) console.log(logs.join('\n'));
      await context.close();
    }
  });
});
