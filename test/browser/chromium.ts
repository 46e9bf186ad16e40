// Debian's Chromium (never a downloaded browser) under playwright-core, with the flags that keep
// it quiet and deterministic in a container. Page console errors are collected for the report.
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = process.env.BUNSAN_CHROMIUM ?? '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
}

/** A browser with a real (non-incognito) profile, where Chromium judges installability. */
export function launchWithProfile(dir: string): Promise<BrowserContext> {
  return chromium.launchPersistentContext(dir, { executablePath: CHROMIUM, headless: true, args: ARGS });
}

export interface OpenedPage { context: BrowserContext; page: Page; logs: string[] }

/** A fresh profile (no service worker yet); `blockServiceWorkers` makes a browser without them. */
export async function openPage(browser: Browser, url: string, o: { blockServiceWorkers?: boolean } = {}): Promise<OpenedPage> {
  const context = await browser.newContext({ serviceWorkers: o.blockServiceWorkers ? 'block' : 'allow' });
  const page = await context.newPage();
  const logs: string[] = [];
  page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') logs.push(`${m.type()}: ${m.text()}`); });
  page.on('pageerror', (e) => logs.push(`pageerror: ${e.message}`));
  await page.goto(url);
  return { context, page, logs };
}

/** Resolves once the page says which proxy it runs with (the shell sets it after connecting). */
export async function proxyMode(page: Page): Promise<string> {
  await page.waitForFunction(() => document.documentElement.dataset.proxy, null, { timeout: 30_000 });
  return page.evaluate(() => document.documentElement.dataset.proxy!);
}
