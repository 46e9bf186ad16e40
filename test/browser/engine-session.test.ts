// The browser runs the engine with every signal the CLI has: chunk requests that need no CORS
// preflight (token in the query), node history in IndexedDB that a restarted service worker and
// a reloaded page start from, and the settings page's excluded nodes, which neither the service
// worker nor the in-page engine ask. Nodes sit behind logging proxies (counting-nodes.ts), so
// what reaches them, preflights included, is counted where it arrives.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { createApiClient } from '../../protocol/api-client.ts';
import { chunkRequest } from '../../protocol/engine/fetch-chunk.ts';
import type { EngineEvent } from '../../protocol/engine/events.ts';
import type { NodeHistoryEntry } from '../../protocol/engine/node-stats.ts';
import { launchChromium, openPage, proxyMode } from './chromium.ts';
import { isChunkGet, startCountedStack, type CountedStack } from './counting-nodes.ts';
import { makeVideo } from './media.ts';
import { pressPlay, waitForTime } from './play.ts';
import { uploadFile, type Uploaded } from './upload.ts';

const SIZE = 6 * 1024 * 1024 + 12345;
const CHUNK = 256 * 1024;
const CHUNKS = Math.ceil(SIZE / CHUNK);

/** Collects the service worker's engine events (relayed on its BroadcastChannel) in the page. */
async function listen(page: Page): Promise<void> {
  await page.evaluate(() => {
    const w = window as unknown as { engineEvents: unknown[]; engineChannel?: BroadcastChannel };
    w.engineChannel?.close();
    w.engineEvents = [];
    w.engineChannel = new BroadcastChannel('bunsan-engine');
    w.engineChannel.onmessage = (e) => w.engineEvents.push((e.data as { event: unknown }).event);
  });
}
const events = (page: Page) => page.evaluate(() => (window as unknown as { engineEvents: EngineEvent[] }).engineEvents.slice());

/** A full read of a URL in the page: its length and SHA-256. */
const read = (page: Page, url: string) => page.evaluate(async (url) => {
  const res = await fetch(url);
  const buf = new Uint8Array(await res.arrayBuffer());
  const hex = [...new Uint8Array(await crypto.subtle.digest('SHA-256', buf))].map((b) => b.toString(16).padStart(2, '0')).join('');
  return { status: res.status, bytes: buf.length, sha256: hex };
}, url);

/** The engine's IndexedDB as the page sees it (never created here: that would pre-empt its schema). */
const idb = (page: Page, store: 'history' | 'settings') => page.evaluate(async (store) => {
  if (!(await indexedDB.databases()).some((d) => d.name === 'bunsan-engine')) return {};
  const db = await new Promise<IDBDatabase>((res, rej) => {
    const r = indexedDB.open('bunsan-engine');
    r.onsuccess = () => res(r.result);
    r.onerror = () => rej(r.error);
  });
  try {
    if (!db.objectStoreNames.contains(store)) return {};
    const tx = db.transaction(store);
    const all = (q: IDBRequest) => new Promise<unknown[]>((res, rej) => { q.onsuccess = () => res(q.result as unknown[]); q.onerror = () => rej(q.error); });
    const [keys, values] = await Promise.all([all(tx.objectStore(store).getAllKeys()), all(tx.objectStore(store).getAll())]);
    return Object.fromEntries(keys.map((k, i) => [String(k), values[i]]));
  } finally {
    db.close();
  }
}, store) as Promise<Record<string, unknown>>;

const history = (page: Page) => idb(page, 'history') as Promise<Record<string, NodeHistoryEntry>>;

/** Adds `n` to each listed node's saved success count: a mark only a session that loaded the history carries on. */
const markHistory = (page: Page, urls: string[], n: number) => page.evaluate(async ({ urls, n }) => {
  const db = await new Promise<IDBDatabase>((res, rej) => {
    const r = indexedDB.open('bunsan-engine');
    r.onsuccess = () => res(r.result);
    r.onerror = () => rej(r.error);
  });
  const tx = db.transaction('history', 'readwrite');
  for (const url of urls) {
    const q = tx.objectStore('history').get(url);
    q.onsuccess = () => tx.objectStore('history').put({ ...q.result, successes: q.result.successes + n }, url);
  }
  await new Promise((res, rej) => { tx.oncomplete = res; tx.onerror = () => rej(tx.error); });
  db.close();
}, { urls, n });

describe('the engine in the browser', () => {
  let stack: CountedStack;
  let browser: Browser;
  let item: Uploaded;
  let sha: string;
  let dir: string;
  const urlOf = (id: string) => stack.nodes.find((n) => n.id === id)!.publicUrl;

  beforeAll(async () => {
    [stack, browser] = await Promise.all([startCountedStack(3), launchChromium()]);
    dir = mkdtempSync(join(tmpdir(), 'bunsan-engine-'));
    const file = join(dir, 'item.bin');
    const bytes = randomBytes(SIZE);
    writeFileSync(file, bytes);
    sha = createHash('sha256').update(bytes).digest('hex');
    item = await uploadFile(stack, file, 'application/octet-stream', { chunkSize: CHUNK, replicas: 2 });
  });
  afterAll(async () => {
    await browser?.close();
    await stack?.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('asks nodes without a CORS preflight and keeps node history that a restarted worker starts from', async () => {
    const { context, page, logs } = await openPage(browser, `${stack.portalUrl}/`);
    try {
      expect(await proxyMode(page)).toBe('service-worker');
      await listen(page);
      const mark = stack.requests.length;
      expect(await read(page, `/c/${item.id}`)).toEqual({ status: 200, bytes: SIZE, sha256: sha });
      const seen = stack.requests.slice(mark);
      const gets = seen.filter(isChunkGet);
      expect(gets.length).toBeGreaterThanOrEqual(CHUNKS);
      expect(gets.every((r) => r.queryToken && !r.authHeader)).toBe(true);
      // Every node was probed once (nothing was known), by a simple request too.
      expect(seen.filter((r) => r.path === '/v1/probe').map((r) => r.node).sort()).toEqual(['n1', 'n2', 'n3']);
      expect(seen.filter((r) => r.method === 'OPTIONS')).toEqual([]);

      // The other request shape the engine sends, a resumed transfer (Range from an offset): still
      // simple, and the stamp header stays readable across origins.
      const m = await createApiClient({ portal: stack.portalUrl, fetch: (u, i) => fetch(u, i) }).manifest(item.id);
      const c = m.chunks[3];
      const [url, init] = chunkRequest(m.nodes.find((n) => n.id === c.nodes[0])!.url, c.hash, m.tokens.get, 100);
      const before = stack.requests.length;
      const resumed = await page.evaluate(async ({ url, headers, cache }) => {
        const res = await fetch(url, { headers, cache });
        return { status: res.status, range: res.headers.get('content-range'), stamp: res.headers.get('bunsan-stamp'), bytes: (await res.arrayBuffer()).byteLength };
      }, { url, headers: init.headers as Record<string, string>, cache: init.cache });
      expect(resumed).toEqual({ status: 206, range: `bytes 100-${c.sealedLength - 1}/${c.sealedLength}`, stamp: expect.stringMatching(/^[0-9a-f]{64}$/), bytes: c.sealedLength - 100 });
      expect(stack.requests.slice(before).map((r) => r.method)).toEqual(['GET']);
      // The engine's requests bypass the browser's HTTP cache (the node's answer is immutable and
      // cacheable): the same whole-chunk request twice reaches the node twice.
      const [whole, wholeInit] = chunkRequest(m.nodes.find((n) => n.id === c.nodes[0])!.url, c.hash, m.tokens.get, 0);
      const twice = stack.requests.length;
      for (let i = 0; i < 2; i++) {
        expect(await page.evaluate(async ({ url, cache }) => (await fetch(url, { cache })).status, { url: whole, cache: wholeInit.cache })).toBe(200);
      }
      expect(stack.requests.slice(twice).map((r) => r.method)).toEqual(['GET', 'GET']);
      // The control: the token in a header instead, and the browser does send a preflight first.
      const withHeader = stack.requests.length;
      expect(await page.evaluate(async ({ url, token }) => (await fetch(url, { headers: { authorization: `Bearer ${token}` }, cache: 'no-store' })).status,
        { url: url.split('?')[0], token: m.tokens.get })).toBe(200);
      expect(stack.requests.slice(withHeader).map((r) => r.method)).toEqual(['OPTIONS', 'GET']);

      // Node history in IndexedDB, with throughput for every node that served chunks.
      const used = [...new Set((await events(page)).flatMap((e) => (e.type === 'chunk-done' ? [e.node] : [])))];
      expect(used.length).toBeGreaterThan(1);
      await expect.poll(async () => {
        const h = await history(page);
        return used.every((id) => h[urlOf(id)]?.rate > 0 && h[urlOf(id)].successes > 0);
      }, { timeout: 10_000 }).toBe(true);

      // The worker is stopped (its memory gone) and the history marked; the next read starts a new
      // worker, which must load the marked history: it probes nobody and carries the marks on.
      const cdp = await context.newCDPSession(page);
      const states: string[] = [];
      cdp.on('ServiceWorker.workerVersionUpdated', (e) => states.push(...e.versions.map((v) => v.runningStatus)));
      await cdp.send('ServiceWorker.enable');
      await cdp.send('ServiceWorker.stopAllWorkers');
      await expect.poll(() => states.at(-1), { timeout: 10_000 }).toBe('stopped');
      const stoppedAt = states.length;
      const MARK = 1_000_000;
      const saved = await history(page);
      await markHistory(page, used.map(urlOf), MARK);
      await listen(page);
      const mark2 = stack.requests.length;
      expect(await read(page, `/c/${item.id}`)).toEqual({ status: 200, bytes: SIZE, sha256: sha });
      expect(states.slice(stoppedAt)).toContain('running');
      const second = await events(page);
      expect(second.filter((e) => e.type === 'node-probe')).toEqual([]);
      expect(stack.requests.slice(mark2).filter((r) => r.path === '/v1/probe')).toEqual([]);
      const done = (id: string) => second.filter((e) => e.type === 'chunk-done' && e.node === id).length;
      await expect.poll(async () => {
        const h = await history(page);
        return used.every((id) => h[urlOf(id)].successes === saved[urlOf(id)].successes + MARK + done(id));
      }, { timeout: 10_000 }).toBe(true);
    } finally {
      if (logs.length) console.log(logs.join('\n'));
      await context.close();
    }
  });

  it('never asks a node excluded on the settings page, and the bytes are exact', async () => {
    const { context, page, logs } = await openPage(browser, `${stack.portalUrl}/#/settings`);
    try {
      expect(await proxyMode(page)).toBe('service-worker');
      await page.locator('ul.node-settings li[data-node]').nth(2).waitFor({ timeout: 30_000 });
      // As with a remote: arrows to n1's Exclude button, Enter.
      const target = 'button[data-node="n1"][data-action="exclude"]';
      for (let i = 0; i < 40 && !(await page.evaluate((s) => document.activeElement?.matches(s), target)); i++) await page.keyboard.press('ArrowDown');
      await page.keyboard.press('Enter');
      await expect.poll(() => page.getAttribute('li[data-node="n1"]', 'data-mode')).toBe('exclude');
      expect(await page.getAttribute(target, 'aria-pressed')).toBe('true');
      expect(await idb(page, 'settings')).toEqual({ nodes: { prefer: [], exclude: ['n1'] } });

      await listen(page);
      const mark = stack.requests.length;
      expect(await read(page, `/c/${item.id}`)).toEqual({ status: 200, bytes: SIZE, sha256: sha });
      const seen = stack.requests.slice(mark);
      expect(seen.filter(isChunkGet).length).toBeGreaterThanOrEqual(CHUNKS);
      expect(seen.filter((r) => r.node === 'n1')).toEqual([]);
      const asked = new Set((await events(page)).flatMap((e) => (e.type === 'chunk-request' ? [e.node] : [])));
      expect([...asked].sort()).toEqual(['n2', 'n3']);

      // Clear and forget: back to automatic, no history left.
      await page.click('button.clear-choice');
      await expect.poll(() => page.getAttribute('li[data-node="n1"]', 'data-mode')).toBe('auto');
      expect(await idb(page, 'settings')).toEqual({ nodes: { prefer: [], exclude: [] } });
      await expect.poll(async () => Object.keys(await history(page)).length, { timeout: 10_000 }).toBeGreaterThan(0);
      await page.click('button.forget-history');
      await expect.poll(() => page.textContent('.settings-status')).toMatch(/forgotten/);
      expect(await history(page)).toEqual({});
    } finally {
      if (logs.length) console.log(logs.join('\n'));
      await context.close();
    }
  });

  it('runs the in-page engine with the same settings and history when no service worker is there', async () => {
    const video = await uploadFile(stack, makeVideo('webm', 12, 800), 'video/webm', { chunkSize: 64 * 1024, replicas: 2 });
    const { context, page, logs } = await openPage(browser, `${stack.portalUrl}/#/settings`, { blockServiceWorkers: true });
    try {
      expect(await proxyMode(page)).toBe('in-page');
      await page.locator('button[data-node="n2"][data-action="exclude"]').click({ timeout: 30_000 });
      await expect.poll(() => page.getAttribute('li[data-node="n2"]', 'data-mode')).toBe('exclude');

      const play = async () => {
        await page.goto(`${stack.portalUrl}/#/play/${video.id}`);
        await page.reload(); // a fresh page: the in-page engine's memory starts empty
        expect(await proxyMode(page)).toBe('in-page');
        await pressPlay(page);
        await waitForTime(page, 2);
        return page.evaluate(() => (window.bunsanPlayer as unknown as { chunks: { node: string; ok: boolean }[] }).chunks.slice());
      };
      const mark = stack.requests.length;
      const first = await play();
      expect(first.filter((c) => c.ok).length).toBeGreaterThan(0);
      expect(new Set(first.map((c) => c.node)).has('n2')).toBe(false);
      expect(stack.requests.slice(mark).filter((r) => r.node === 'n2')).toEqual([]);
      expect([...new Set(stack.requests.slice(mark).filter((r) => r.path === '/v1/probe').map((r) => r.node))].sort()).toEqual(['n1', 'n3']);
      await expect.poll(async () => {
        const h = await history(page);
        return ['n1', 'n3'].every((id) => h[urlOf(id)]?.updatedAt > 0);
      }, { timeout: 10_000 }).toBe(true);

      // Reloaded, the page's engine starts from IndexedDB: nobody is probed again.
      const mark2 = stack.requests.length;
      const second = await play();
      expect(second.filter((c) => c.ok).length).toBeGreaterThan(0);
      expect(stack.requests.slice(mark2).filter((r) => r.path === '/v1/probe')).toEqual([]);
      expect(stack.requests.slice(mark2).filter((r) => r.node === 'n2')).toEqual([]);
    } finally {
      if (logs.length) console.log(logs.join('\n'));
      await context.close();
    }
  });
});
