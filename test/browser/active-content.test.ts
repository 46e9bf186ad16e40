// Uploaded bytes never run as active content on the app's origin (docs/security.md, "Serving
// uploaded content"). Hostile uploads (pages, SVG, XHTML, XML, script, and innocent-looking
// types whose bytes are such documents) are opened by URL, embedded every way, through the
// service worker, with service workers blocked (the portal and the in-page engine), on a first
// visit, and from the offline copy with the stack down; no payload may run, and every answer
// carries the model's headers. The control: the same payloads served plainly do run, so the
// detectors (console line, counting server, BroadcastChannel, localStorage) are shown to see a run.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Download, Page } from 'playwright-core';
import { CONTENT_ANSWER_HEADERS, contentDisposition } from '../../protocol/serve/serve-policy.ts';
import { startTestStack, type TestStack } from '../system/local-stack.ts';
import { launchChromium, openPage, proxyMode } from './chromium.ts';
import { embedPage, payload, RAN_CHANNEL, RAN_MARK, REAL_TYPE, startProbe, type EmbedHow, type PayloadKind, type Probe } from './payloads.ts';
import { uploadFile } from './upload.ts';

interface Case {
  key: string; kind: PayloadKind; type: string; name: string;
  /** what the model serves it as: the answer's Content-Type, and inline or a download */
  servedType: string; inline: boolean;
  id?: string;
}

const OCTET = 'application/octet-stream';
const CASES: Case[] = [
  { key: 'html', kind: 'html', type: 'text/html', name: 'page.html', servedType: OCTET, inline: false },
  { key: 'html-noext', kind: 'html', type: 'Text/HTML; charset=utf-8', name: 'page', servedType: OCTET, inline: false },
  { key: 'svg', kind: 'svg', type: 'image/svg+xml', name: 'logo.svg', servedType: OCTET, inline: false },
  { key: 'xhtml', kind: 'xhtml', type: 'application/xhtml+xml', name: 'page.xhtml', servedType: OCTET, inline: false },
  { key: 'text-xml', kind: 'xml', type: 'text/xml', name: 'feed', servedType: OCTET, inline: false },
  { key: 'app-xml', kind: 'xml', type: 'application/xml', name: 'data.xml', servedType: OCTET, inline: false },
  { key: 'js', kind: 'js', type: 'text/javascript', name: 'app.js', servedType: OCTET, inline: false },
  // innocent declared types, hostile bytes
  { key: 'png-html', kind: 'html', type: 'image/png', name: 'photo.png', servedType: 'image/png', inline: true },
  { key: 'png-svg', kind: 'svg', type: 'image/png', name: 'icon.png', servedType: 'image/png', inline: true },
  { key: 'text-html', kind: 'html', type: 'text/plain', name: 'notes.txt', servedType: 'text/plain; charset=utf-8', inline: true },
  { key: 'webm-html', kind: 'html', type: 'video/webm', name: 'clip.webm', servedType: 'video/webm', inline: true },
  { key: 'bin-html', kind: 'html', type: OCTET, name: 'blob.bin', servedType: OCTET, inline: false },
];
const EMBED_HOWS: EmbedHow[] = ['iframe', 'img', 'object', 'embed', 'script', 'worker'];
const PROBE_PAGE = '/probe-embed.html';

/** Every sign of a run this test can see, from the moment it starts watching a context. */
interface Watch { consoleRuns: string[]; downloads: Download[]; hitsBefore: number }

function watch(context: BrowserContext, probe: Probe): Watch {
  const w: Watch = { consoleRuns: [], downloads: [], hitsBefore: probe.hits.length };
  context.on('console', (m) => { if (m.text().includes(RAN_MARK)) w.consoleRuns.push(m.text()); });
  const onPage = (p: Page) => p.on('download', (d) => w.downloads.push(d));
  context.pages().forEach(onPage);
  context.on('page', onPage);
  return w;
}

const isMedia = (c: Case) => c.servedType.startsWith('video/');
const named = (c: Case) => `/c/${c.id}/${encodeURIComponent(c.name)}`;

describe('uploaded bytes never run as active content on the app\'s origin', () => {
  let stack: TestStack;
  let browser: Browser;
  let probe: Probe;
  let stopped = false;

  beforeAll(async () => {
    [stack, browser, probe] = await Promise.all([startTestStack(2), launchChromium(), startProbe()]);
    const dir = mkdtempSync(join(tmpdir(), 'bunsan-active-'));
    for (const c of CASES) {
      const path = join(mkdtempSync(join(dir, `${c.key}-`)), c.name);
      writeFileSync(path, payload(c.kind, probe.url, c.key));
      c.id = (await uploadFile(stack, path, c.type)).id;
    }
  });
  afterAll(async () => {
    await browser?.close();
    await probe?.close();
    if (stopped) await stack?.dispose().catch(() => {});
    else await stack?.dispose();
  });

  /** Hits from our uploads (not the control's) since `w` started watching. */
  const newHits = (w: Watch) => probe.hits.slice(w.hitsBefore).filter((h) => !h.startsWith('control/'));

  /** Nothing ran: no console line, no hit from our uploads, nothing posted or stored on the app's origin. */
  async function expectNothingRan(w: Watch, observer: Page | null, where: string) {
    const hits = newHits(w);
    const onOrigin = observer && await observer.evaluate((ch) => ({ heard: (window as unknown as { heard?: string[] }).heard ?? [], stored: localStorage.getItem(ch) }), RAN_CHANNEL);
    expect({ where, console: w.consoleRuns, hits, heard: onOrigin?.heard ?? [], stored: onOrigin?.stored ?? null })
      .toEqual({ where, console: [], hits: [], heard: [], stored: null });
  }

  /** An app page that hears the payloads' BroadcastChannel on the app's origin. */
  async function observe(page: Page): Promise<void> {
    await page.evaluate((ch) => {
      const w = window as unknown as { heard: string[] };
      w.heard = [];
      new BroadcastChannel(ch).onmessage = (e) => w.heard.push(String(e.data));
    }, RAN_CHANNEL);
  }

  /**
   * Opens every case at /c/{id} and /c/{id}/{name} in a tab of its own; `expect` says what each
   * opening must end as. Waits for that end (the page loaded, the download started, the player shown).
   */
  async function openEach(context: BrowserContext, w: Watch, outcome: (c: Case) => 'download' | 'document' | 'player') {
    const page = await context.newPage();
    try {
      for (const c of CASES) {
        for (const url of [`${stack.portalUrl}/c/${c.id}`, stack.portalUrl + named(c)]) {
          const end = outcome(c);
          if (end === 'download') {
            const before = w.downloads.length;
            const [download] = await Promise.all([page.waitForEvent('download'), page.goto(url).catch(() => null)]);
            expect(download.url(), c.key).toBe(url);
            expect(download.suggestedFilename(), c.key).toBe(c.name);
            expect(w.downloads.length).toBeGreaterThan(before);
          } else if (end === 'player') {
            await page.goto(url);
            await page.waitForURL(new RegExp(`/#/play/${c.id}$`));
            await page.locator('button.play').waitFor();
          } else {
            const res = await page.goto(url);
            expect(res!.url(), c.key).toBe(url);
            expectModelHeaders(await res!.allHeaders(), c);
          }
        }
      }
    } finally {
      await page.close();
    }
  }

  /**
   * A page on the app's origin, without a policy of its own (the test's, not the app's: the
   * app's pages allow no frames or objects), embedding every case every way; waits until the
   * browser is done with each element (load or error; a frame that became a download counts).
   */
  async function embedEach(context: BrowserContext, w: Watch): Promise<void> {
    const items = CASES.flatMap((c) => [{ url: `/c/${c.id}`, hows: EMBED_HOWS }, { url: named(c), hows: ['iframe'] as EmbedHow[] }]);
    await context.route(stack.portalUrl + PROBE_PAGE, (r) => r.fulfill({ status: 200, contentType: 'text/html', body: embedPage(items) }));
    const page = await context.newPage();
    try {
      await page.goto(stack.portalUrl + PROBE_PAGE);
      const pending = async () => {
        const settled = new Set((await page.evaluate(() => (window as unknown as { settled: string[] }).settled)).map((s) => s.split(' ').slice(0, 2).join(' ')));
        const downloaded = new Set(w.downloads.map((d) => new URL(d.url()).pathname));
        return items.flatMap((it) => it.hows.map((how) => ({ url: it.url, how })))
          .filter((e) => !settled.has(`${e.url} ${e.how}`) && !(['iframe', 'object', 'embed'].includes(e.how) && downloaded.has(e.url)))
          .map((e) => `${e.how} ${e.url}`);
      };
      // A payload that runs may keep its element from settling (a worker that runs fires no
      // error): then stop waiting, and let the caller report the run.
      await expect.poll(async () => (w.consoleRuns.length || newHits(w).length ? [] : pending()), { timeout: 90_000 }).toEqual([]);
    } finally {
      await page.close();
      await context.unroute(stack.portalUrl + PROBE_PAGE);
    }
  }

  function expectModelHeaders(h: Record<string, string>, c: Case) {
    for (const [k, v] of Object.entries(CONTENT_ANSWER_HEADERS)) expect(h[k], `${c.key} ${k}`).toBe(v);
    expect(h['content-type'], c.key).toBe(c.servedType);
    expect(h['content-disposition'], c.key).toBe(contentDisposition(c.inline ? 'inline' : 'attachment', c.name));
  }

  /** The service worker's answers, read by fetch from an app page: 200, 206, 416, HEAD and an error. */
  async function expectAnswersCarryTheModel(page: Page) {
    for (const c of CASES) {
      const answers = await page.evaluate(async (url) => {
        const one = async (init: RequestInit) => {
          const res = await fetch(url, init);
          await res.arrayBuffer();
          return { status: res.status, headers: Object.fromEntries(res.headers) };
        };
        return [await one({}), await one({ headers: { range: 'bytes=0-9' } }), await one({ headers: { range: 'bytes=999999-' } }), await one({ method: 'HEAD' })];
      }, `/c/${c.id}`);
      expect(answers.map((a) => a.status), c.key).toEqual([200, 206, 416, 200]);
      for (const a of answers) expectModelHeaders(a.headers, c);
    }
    const missing = await page.evaluate(async () => {
      const res = await fetch(`/c/${'0'.repeat(32)}`);
      return { status: res.status, headers: Object.fromEntries(res.headers) };
    });
    expect(missing.status).toBeGreaterThanOrEqual(400); // 404, or 502 with the portal down
    for (const [k, v] of Object.entries(CONTENT_ANSWER_HEADERS)) expect(missing.headers[k], k).toBe(v);
  }

  it('control: the same payloads served plainly do run, opened and embedded, and every detector sees it', async () => {
    const { context, page } = await openPage(browser, 'about:blank');
    const w = watch(context, probe);
    try {
      // Each (way, case) gets its own copy whose tag says where it ran.
      const ways: (EmbedHow | 'top')[] = ['top', 'iframe', 'object', 'embed', 'script', 'worker'];
      for (const way of ways) for (const c of CASES) probe.serve(`${way}/${c.key}`, REAL_TYPE[c.kind], payload(c.kind, probe.url, `control/${way}/${c.key}`));
      const documents = CASES.filter((c) => c.kind !== 'js');
      for (const c of documents) await page.goto(`${probe.url}/plain/top/${c.key}`);
      for (const way of ['iframe', 'object', 'embed', 'script', 'worker'] as EmbedHow[]) {
        const runs = way === 'script' || way === 'worker' ? CASES.filter((c) => c.kind === 'js') : documents;
        probe.serve(`embed-${way}.html`, 'text/html', embedPage(runs.map((c) => ({ url: `/plain/${way}/${c.key}`, hows: [way] }))));
        await page.goto(`${probe.url}/plain/embed-${way}.html`);
        await expect.poll(() => runs.filter((c) => !probe.hits.some((h) => h.startsWith(`control/${way}/${c.key}:`))).map((c) => c.key), { timeout: 30_000 }).toEqual([]);
      }
      await expect.poll(() => documents.filter((c) => !probe.hits.some((h) => h.startsWith(`control/top/${c.key}:`))).map((c) => c.key), { timeout: 30_000 }).toEqual([]);
      expect(w.consoleRuns.some((l) => l.includes('control/top/html:script'))).toBe(true);
      expect(w.consoleRuns.some((l) => l.includes('control/iframe/svg:'))).toBe(true);
      // On the origin it ran with, a run also posts on the channel and writes to storage.
      probe.serve('observer.html', 'text/html', '<!doctype html><title>observer</title>');
      await page.goto(`${probe.url}/plain/observer.html`);
      await observe(page);
      const other = await context.newPage();
      await other.goto(`${probe.url}/plain/top/xhtml`);
      await expect.poll(() => page.evaluate(() => (window as unknown as { heard: string[] }).heard)).toContain('control/top/xhtml:script');
      expect(await page.evaluate((ch) => localStorage.getItem(ch), RAN_CHANNEL)).toMatch(/^control\//);
    } finally {
      await context.close();
    }
  });

  it('through the service worker: opened, embedded, none runs, and every answer carries the model\'s headers', async () => {
    const { context, page } = await openPage(browser, `${stack.portalUrl}/#/settings`);
    const w = watch(context, probe);
    try {
      expect(await proxyMode(page)).toBe('service-worker');
      await observe(page);
      await expectAnswersCarryTheModel(page);
      await openEach(context, w, (c) => (!c.inline ? 'download' : isMedia(c) ? 'player' : 'document'));
      await embedEach(context, w);
      // The disguised video in the player: MediaSource refuses it, the media element gets it as media.
      const player = await context.newPage();
      await player.goto(`${stack.portalUrl}/#/play/${CASES.find(isMedia)!.id}`);
      await player.locator('button.play').click();
      await player.waitForFunction(() => window.bunsanPlayer?.path === 'element' || window.bunsanPlayer?.state === 'error');
      await expectNothingRan(w, page, 'service worker');
    } finally {
      await context.close();
    }
  });

  it('without a service worker: the portal never serves the bytes, the in-page player never shows them', async () => {
    // What a browser gets for a content URL from the network: the app's page, never the content.
    for (const c of CASES) {
      const res = await fetch(stack.portalUrl + named(c));
      const body = await res.text();
      expect(res.headers.get('content-type'), c.key).toMatch(/^text\/html/);
      expect(res.headers.get('content-security-policy'), c.key).toContain("script-src 'self'");
      expect(body, c.key).toContain('<title>bunsan</title>');
      expect(body, c.key).not.toContain(RAN_MARK);
    }
    const { context, page } = await openPage(browser, `${stack.portalUrl}/#/settings`, { blockServiceWorkers: true });
    const w = watch(context, probe);
    try {
      expect(await proxyMode(page)).toBe('in-page');
      await observe(page);
      await openEach(context, w, () => 'player');
      // A private content's link carries the viewer's grant on to the player.
      const linked = await context.newPage();
      await linked.goto(`${stack.portalUrl}${named(CASES[0])}?grant=g%2B1`);
      await linked.waitForURL(`${stack.portalUrl}/#/play/${CASES[0].id}?grant=g%2B1`);
      await linked.close();
      await embedEach(context, w);
      for (const c of CASES.filter((x) => x.key === 'html' || x.key === 'webm-html' || x.key === 'text-html')) {
        const player = await context.newPage();
        await player.goto(`${stack.portalUrl}/#/play/${c.id}`);
        await player.locator('button.play').click();
        await player.waitForFunction(() => window.bunsanPlayer?.path === 'element' || window.bunsanPlayer?.state === 'error');
        await player.close();
      }
      await expectNothingRan(w, page, 'in-page');
    } finally {
      await context.close();
    }
  });

  it('on a first visit, before the service worker runs and once it does', async () => {
    for (const c of [CASES.find((x) => x.key === 'html')!, CASES.find((x) => x.key === 'text-html')!]) {
      const { context, page } = await openPage(browser, 'about:blank');
      const w = watch(context, probe);
      try {
        if (c.inline) {
          // The app's page installs the worker and loads the URL again: now the worker's sandboxed answer.
          const answered = page.waitForResponse((r) => r.url() === stack.portalUrl + named(c) && r.fromServiceWorker());
          await page.goto(stack.portalUrl + named(c));
          expectModelHeaders(await (await answered).allHeaders(), c);
        } else {
          await Promise.all([page.waitForEvent('download'), page.goto(stack.portalUrl + named(c))]);
        }
        const observer = await context.newPage();
        await observer.goto(`${stack.portalUrl}/#/settings`);
        await expectNothingRan(w, observer, `first visit ${c.key}`);
      } finally {
        await context.close();
      }
    }
  });

  it('saved offline and opened with the whole stack down', async () => {
    const { context, page } = await openPage(browser, `${stack.portalUrl}/#/settings`);
    const w = watch(context, probe);
    try {
      expect(await proxyMode(page)).toBe('service-worker');
      await page.evaluate(async (ids) => {
        for (const id of ids) {
          const { port1, port2 } = new MessageChannel();
          const answer = new Promise<{ ok: boolean; error?: string }>((r) => { port1.onmessage = (e) => r(e.data); });
          navigator.serviceWorker.controller!.postMessage({ type: 'save', id }, [port2]);
          const a = await answer;
          if (!a.ok) throw new Error(a.error);
        }
      }, CASES.map((c) => c.id!));
      await stack.stop();
      stopped = true;
      await page.reload();
      expect(await proxyMode(page)).toBe('service-worker');
      await observe(page);
      await expectAnswersCarryTheModel(page);
      await openEach(context, w, (c) => (!c.inline ? 'download' : isMedia(c) ? 'player' : 'document'));
      await embedEach(context, w);
      await expectNothingRan(w, page, 'offline');
    } finally {
      await context.close();
    }
  });
});
