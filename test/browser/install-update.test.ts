// Installing and updating the app: Chromium finds nothing in the way of installing it, and every
// icon the manifest and the page name is a real PNG of the stated size (the committed files are
// what scripts/web/icons.ts draws); a new service worker waits behind a banner until the user
// presses Reload, then controls the page; and the updated shell still loads with the stack down.
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { ICONS, drawIcon, iconSvg, publicDir } from '../../scripts/web/icons.ts';
import { pngRows } from '../../scripts/web/png.ts';
import { startTestStack, type TestStack } from '../system/local-stack.ts';
import { launchChromium, launchWithProfile, openPage, proxyMode } from './chromium.ts';

interface ManifestIcon { src: string; sizes: string; type: string; purpose?: string }

describe('install and update', () => {
  let stack: TestStack;
  let browser: Browser;
  let stopped = false;

  beforeAll(async () => {
    [stack, browser] = await Promise.all([startTestStack(1), launchChromium()]);
  });
  afterAll(async () => {
    await browser?.close();
    if (stopped) await stack?.dispose().catch(() => {}); // the portal was disposed already
    else await stack?.dispose();
  });

  it('is installable, with PNG icons of the stated sizes (one maskable) that the shell caches', async () => {
    const profile = mkdtempSync(join(tmpdir(), 'bunsan-profile-'));
    const context = await launchWithProfile(profile);
    try {
      const page = await context.newPage();
      await page.goto(`${stack.portalUrl}/`);
      expect(await proxyMode(page)).toBe('service-worker');
      const cdp = await context.newCDPSession(page);
      expect((await cdp.send('Page.getInstallabilityErrors')).installabilityErrors).toEqual([]);
      const { url, errors, data } = await cdp.send('Page.getAppManifest');
      expect(url).toBe(`${stack.portalUrl}/manifest.webmanifest`);
      expect(errors).toEqual([]);
      const manifest = JSON.parse(data!) as { id: string; display: string; background_color: string; theme_color: string; icons: ManifestIcon[] };
      expect(manifest).toMatchObject({ id: '/', display: 'standalone', background_color: '#0f1b2a', theme_color: '#16324f' });

      const pngs = manifest.icons.filter((i) => i.type === 'image/png');
      expect(pngs.map((i) => `${i.sizes} ${i.purpose}`).sort()).toEqual(['192x192 any', '512x512 any', '512x512 maskable']);
      const touch = await page.getAttribute('link[rel=apple-touch-icon]', 'href');
      expect(touch).toBeTruthy();
      for (const { src, sizes } of [...pngs, { src: touch!, sizes: '180x180' }]) {
        const res = await fetch(new URL(src, stack.portalUrl));
        expect(res.status, src).toBe(200);
        expect(res.headers.get('content-type'), src).toBe('image/png');
        const png = readPng(Buffer.from(await res.arrayBuffer()));
        expect(`${png.width}x${png.height}`, src).toBe(sizes);
      }

      // Every icon is in the offline shell, in the one shell cache there is.
      const cached = await page.evaluate(async (srcs) => {
        const names = (await caches.keys()).filter((n) => n.startsWith('bunsan-shell'));
        const cache = await caches.open(names[0]);
        return { names, hits: await Promise.all(srcs.map(async (s) => (await cache.match(s))?.headers.get('content-type') ?? null)) };
      }, [...pngs.map((i) => i.src), touch!, '/manifest.webmanifest']);
      expect(cached.names).toEqual([expect.stringMatching(/^bunsan-shell-[0-9a-f]{16}$/)]); // named for the build
      expect(cached.hits).toEqual(['image/png', 'image/png', 'image/png', 'image/png', expect.stringContaining('manifest')]);
    } finally {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    }
  });

  it('keeps the committed icons equal to what the icon script draws', () => {
    expect(readFileSync(join(publicDir, 'icon.svg'), 'utf8')).toBe(iconSvg());
    for (const spec of ICONS) {
      const png = readPng(readFileSync(join(publicDir, 'icons', spec.file)));
      expect([png.width, png.height, png.colorType]).toEqual([spec.size, spec.size, 6]);
      expect(png.rows.equals(pngRows(spec.size, spec.size, drawIcon(spec))), spec.file).toBe(true);
    }
    // The maskable icon has no transparent pixel (it is cut by the launcher, not by itself).
    const maskable = drawIcon(ICONS.find((i) => i.purpose === 'maskable')!);
    expect(maskable.filter((_, i) => i % 4 === 3).every((a) => a === 255)).toBe(true);
  });

  it('offers a new version with a banner and hands the page over only when Reload is pressed', async () => {
    const { context, page, logs } = await openPage(browser, `${stack.portalUrl}/`);
    try {
      expect(await proxyMode(page)).toBe('service-worker');
      let loads = 0;
      page.on('load', () => { loads++; });
      await page.evaluate(() => {
        const w = window as unknown as { before: ServiceWorker | null };
        w.before = navigator.serviceWorker.controller;
      });

      // A new deployment: the served sw.js changes, and the page's registration finds it. The
      // local stack's assets keep the ETag they had at its start, so the browser's HTTP cache is
      // dropped first: the update check then gets the new bytes instead of a 304.
      appendFileSync(join(stack.home, 'web', 'sw.js'), '\n;self.bunsanTestVersion = 2;\n');
      await (await context.newCDPSession(page)).send('Network.clearBrowserCache');
      await page.evaluate(async () => { await (await navigator.serviceWorker.getRegistration())!.update(); });
      await page.waitForSelector('.update-banner', { timeout: 30_000 });
      expect(await page.textContent('.update-banner')).toContain('A new version of bunsan is ready');
      // Nothing changes by itself: the old worker still controls this very page, the new one waits.
      await page.waitForTimeout(1500);
      const waiting = await page.evaluate(async () => {
        const reg = (await navigator.serviceWorker.getRegistration())!;
        const w = window as unknown as { before?: ServiceWorker | null };
        return { sameController: !!w.before && navigator.serviceWorker.controller === w.before, waiting: reg.waiting?.state ?? null };
      });
      expect(waiting).toEqual({ sameController: true, waiting: 'installed' });
      expect(loads).toBe(0);

      // A TV remote: up from the brand link reaches the banner's buttons; Enter presses Reload.
      await page.focus('a.brand');
      await page.keyboard.press('ArrowUp');
      await page.keyboard.press('ArrowUp');
      expect(await page.evaluate(() => document.activeElement?.className)).toBe('update-reload');
      const reloaded = page.waitForEvent('load');
      await page.keyboard.press('Enter');
      await reloaded;
      expect(await proxyMode(page)).toBe('service-worker');
      const after = await page.evaluate(async () => {
        const reg = (await navigator.serviceWorker.getRegistration())!;
        return { before: 'before' in window, controlled: navigator.serviceWorker.controller === reg.active, waiting: !!reg.waiting, banner: !!document.querySelector('.update-banner') };
      });
      expect(after).toEqual({ before: false, controlled: true, waiting: false, banner: false });
      // The worker in control runs the new script, and the page reloaded exactly once.
      const versions = await Promise.all(context.serviceWorkers().map((w) => w.evaluate(() => (self as unknown as { bunsanTestVersion?: number }).bunsanTestVersion ?? 1)));
      expect(versions).toContain(2);
      await page.waitForTimeout(1000);
      expect(loads).toBe(1);

      // The updated shell still loads with the whole stack down, icons included.
      await stack.stop();
      stopped = true;
      await page.reload();
      expect(await proxyMode(page)).toBe('service-worker');
      expect(await page.textContent('header .brand')).toContain('bunsan');
      const icon = await page.evaluate(async () => { const r = await fetch('/icons/icon-192.png'); return `${r.status} ${r.headers.get('content-type')}`; });
      expect(icon).toBe('200 image/png');
    } finally {
      if (logs.length) console.log(logs.join('\n'));
      await context.close();
    }
  });
});

/** The header and the inflated image data of a PNG (all IDAT chunks joined). */
function readPng(buf: Buffer): { width: number; height: number; colorType: number; rows: Buffer } {
  expect(buf.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
  expect(buf.toString('latin1', 12, 16)).toBe('IHDR');
  const idat: Buffer[] = [];
  for (let at = 8; at < buf.length;) {
    const len = buf.readUInt32BE(at);
    if (buf.toString('latin1', at + 4, at + 8) === 'IDAT') idat.push(buf.subarray(at + 8, at + 8 + len));
    at += len + 12;
  }
  return { width: buf.readUInt32BE(16), height: buf.readUInt32BE(20), colorType: buf[25], rows: inflateSync(Buffer.concat(idat)) };
}
