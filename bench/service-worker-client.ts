// The service-worker path as a user's browser takes it: Debian's Chromium opens the app the
// portal serves, waits until the app's service worker controls the page, then the page reads
// /c/{id} to the end. The service worker answers it with the shared engine over the same shaped
// node links; the page hears the engine's events on the BroadcastChannel the worker relays them
// on, which gives the chunk latencies, hedged bytes and failures the other rows report.
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { ENGINE_CHANNEL } from '../protocol/serve/engine-channel.ts';
// The browser tests' launcher: the same Chromium binary and flags, so both measure one browser.
import { CHROMIUM, launchChromium } from '../test/browser/chromium.ts';
import type { ClientContext, Measured } from './clients.ts';
import { descendantsCpuSeconds } from './cpu-time.ts';

export { CHROMIUM, launchChromium };

/** What the page measured (plain data, so it crosses from the page). */
interface PageResult {
  error: string | null;
  startedAt: number;
  ms: number;
  bytes: number;
  ttfbMs: number | null;
  stallMs: number;
  chunkMs: number[];
  hedgedBytes: number | null;
  failures: number;
}

export interface ServiceWorkerPage {
  download(ctx: ClientContext): Promise<Measured>;
  close(): Promise<void>;
}

/**
 * A fresh browser profile (no saved chunks, no node history, an empty window of decrypted
 * chunks) with the app open and under its service worker's control: what a first visit gets.
 * When that fails, the page's download reports the failure as its row.
 */
export async function openServiceWorkerPage(browser: Browser, portalUrl: string): Promise<ServiceWorkerPage> {
  const context: BrowserContext = await browser.newContext({ serviceWorkers: 'allow' });
  try {
    const page: Page = await context.newPage();
    const logs: string[] = [];
    page.on('pageerror', (e) => logs.push(e.message));
    await page.goto(`${portalUrl}/`);
    await page.waitForFunction(() => !!navigator.serviceWorker?.controller, null, { timeout: 30_000 }).catch((err: Error) => {
      throw new Error(`the service worker never controlled the page (${err.message})${logs.length ? `: ${logs.join('; ')}` : ''}`);
    });
    return { download: (ctx) => download(page, ctx), close: () => context.close() };
  } catch (err) {
    await context.close();
    const note = `opening the app: ${(err as Error).message.split('\n')[0]}`;
    return { download: async () => failed(Date.now(), note), close: async () => {} };
  }
}

const CHROMIUM_PROCESS = /^chrom/;

async function download(page: Page, ctx: ClientContext): Promise<Measured> {
  const t0 = Date.now();
  const cpu0 = descendantsCpuSeconds(CHROMIUM_PROCESS);
  let r: PageResult;
  try {
    r = await page.evaluate(readInPage, { id: ctx.contentId, size: ctx.plainSize, channelName: ENGINE_CHANNEL, body: BODY });
  } catch (err) {
    return failed(t0, `page: ${(err as Error).message.split('\n')[0]}`);
  }
  // Every Chromium process counts: the service worker's thread, the page's, the network service.
  const cpu1 = descendantsCpuSeconds(CHROMIUM_PROCESS);
  const digest = r.error === null ? await page.evaluate(hashInPage, BODY).catch(() => null) : null;
  const base = {
    startedAt: r.startedAt, seconds: r.ms / 1000, ttfbMs: r.ttfbMs, chunkMs: r.chunkMs, hedgedBytes: r.hedgedBytes, stallMs: r.stallMs,
    cpuSeconds: cpu0 === null || cpu1 === null ? null : cpu1 - cpu0,
  };
  if (r.error !== null) return { ...base, ok: false, note: r.error, errors: r.failures + 1 };
  const ok = r.bytes === ctx.plainSize && digest === ctx.plainDigest;
  return { ...base, ok, note: ok ? undefined : `wrong bytes (${r.bytes} of ${ctx.plainSize})`, errors: r.failures };
}

const failed = (startedAt: number, note: string): Measured => ({
  ok: false, note, startedAt, seconds: (Date.now() - startedAt) / 1000, ttfbMs: null, chunkMs: [], hedgedBytes: null, errors: 1, stallMs: null,
});

/** Where the page keeps the body between the timed read and its hashing. */
const BODY = 'bunsanBenchBody';

/**
 * Runs in the page. The clock stops at the body's last byte; the bytes are copied into one
 * buffer as they come and hashed afterwards (hashInPage), so checking them costs the timing
 * and the CPU figure nothing.
 * Chunk latency is measured as for the CLI rows: from the first request for a chunk to its
 * verified arrival, both as relayed events reach the page. Written without named inner
 * functions: the page gets this function's source text, and nothing else from this module.
 */
async function readInPage(a: { id: string; size: number; channelName: string; body: string }): Promise<PageResult> {
  const asked = new Map<number, number>();
  const chunkMs: number[] = [];
  let failures = 0;
  let hedgedBytes: number | null = null;
  let summarised: (() => void) | null = null;
  const summary = new Promise<void>((resolve) => (summarised = resolve));
  const channel = new BroadcastChannel(a.channelName);
  channel.onmessage = (m: MessageEvent) => {
    const { id, event: e } = m.data as { id: string; event: { type: string; index: number; hedgedBytes: number } };
    if (id !== a.id) return;
    const t = performance.now();
    if (e.type === 'chunk-request' && !asked.has(e.index)) asked.set(e.index, t);
    if (e.type === 'chunk-done' && asked.has(e.index)) chunkMs.push(t - asked.get(e.index)!);
    if (e.type === 'chunk-failed') failures++;
    if (e.type === 'done') {
      hedgedBytes = e.hedgedBytes;
      summarised?.();
    }
  };
  const startedAt = Date.now();
  const t0 = performance.now();
  const all = new Uint8Array(a.size);
  let n = 0;
  let first: number | null = null;
  let last = 0;
  let stall = 0;
  let ms = 0;
  try {
    const res = await fetch(`/c/${a.id}`);
    if (!res.ok || !res.body) throw new Error(`GET /c/${a.id}: ${res.status} ${(await res.text()).slice(0, 200)}`);
    const reader = res.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      const t = performance.now();
      if (first === null) first = t;
      else stall = Math.max(stall, t - last);
      last = t;
      if (n + value.length > a.size) throw new Error(`more bytes than the item's ${a.size}`);
      all.set(value, n);
      n += value.length;
    }
    ms = performance.now() - t0;
    // The engine's summary is relayed as the last byte goes out; give it a moment to arrive.
    await Promise.race([summary, new Promise((r) => setTimeout(r, 2000))]);
    (globalThis as Record<string, unknown>)[a.body] = all.subarray(0, n);
    return { error: null, startedAt, ms, bytes: n, ttfbMs: first === null ? null : first - t0, stallMs: stall, chunkMs, hedgedBytes, failures };
  } catch (err) {
    return {
      error: String(err), startedAt, ms: performance.now() - t0, bytes: n, ttfbMs: first === null ? null : first - t0,
      stallMs: stall, chunkMs, hedgedBytes, failures,
    };
  } finally {
    channel.close();
  }
}

/** Runs in the page: SHA-256 (hex) of the body readInPage kept, which it then lets go. */
async function hashInPage(body: string): Promise<string> {
  const g = globalThis as Record<string, unknown>;
  const bytes = g[body] as Uint8Array<ArrayBuffer>;
  delete g[body];
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}
