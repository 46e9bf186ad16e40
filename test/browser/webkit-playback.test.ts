// WebKit (Safari's engine, every browser on an iPhone) plays content URLs answered by the service
// worker: a WebM and a fragmented MP4 through <video src="/c/{id}/{name}"> to a first frame,
// then a seek; the same through the app's player; and a Range answered byte-exact. The videos are over 2 MiB on purpose: past that
// size WebKit's media loader drops its load whenever it holds 2 % of the file and asks again
// with a new Range, so the worker sees one cancelled answer after another (iterator-stream.ts).
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from '../system/local-stack.ts';
import { makeVideo } from './media.ts';
import { uploadFile, type Uploaded } from './upload.ts';
import { launchWebKit, type WebKit, type WebKitPage } from './webkit.ts';

const SMALL_MEDIA_MAX = 2 * 1024 * 1024;

interface VideoState { readyState: number; currentTime: number; error: string | null; firstFrameMs: number | null; seekedMs: number | null }

const STATE = `const v = document.getElementById('under-test');
  return { readyState: v.readyState, currentTime: v.currentTime, error: v.error && (v.error.code + ' ' + v.error.message), firstFrameMs: window.firstFrameMs ?? null, seekedMs: window.seekedMs ?? null };`;

/** Puts a muted, playing <video src> in the page; the page notes when the first frame came. */
const startVideo = (page: WebKitPage, src: string) => page.run(`
  document.getElementById('under-test')?.remove();
  window.firstFrameMs = null; window.seekedMs = null;
  const v = document.createElement('video');
  v.id = 'under-test'; v.muted = true; v.autoplay = true; v.playsInline = true;
  const t0 = performance.now();
  const frame = () => { if (window.firstFrameMs === null && v.readyState >= 2 && v.currentTime > 0) window.firstFrameMs = performance.now() - t0; };
  v.addEventListener('timeupdate', frame);
  v.src = arguments[0];
  document.body.append(v);
  v.play().catch(() => {});`, src);

/** Waits until the video is past `seconds` with a frame to show, failing at once on a media error. */
async function waitPlaying(page: WebKitPage, what: string, seconds: number, timeoutMs = 45_000): Promise<VideoState> {
  try {
    return await page.waitFor<VideoState>(what, `${STATE.replace('return {', 'const s = {')}
      if (s.error) throw new Error('media error ' + s.error);
      return s.readyState >= 2 && s.currentTime > arguments[0] && s;`, timeoutMs, seconds);
  } catch (err) {
    throw new Error(`${(err as Error).message}\nvideo: ${JSON.stringify(await page.run(STATE).catch(() => null))}`);
  }
}

describe('WebKit plays content URLs from the service worker', () => {
  let stack: TestStack;
  let webkit: WebKit;
  let page: WebKitPage;
  const media: Record<string, Uploaded> = {};

  beforeAll(async () => {
    [stack, webkit] = await Promise.all([startTestStack(3), launchWebKit()]);
    media.webm = await uploadFile(stack, makeVideo('webm', 30), 'video/webm');
    media.fmp4 = await uploadFile(stack, makeVideo('fmp4', 30), 'video/mp4');
    for (const m of Object.values(media)) expect(m.bytes.length).toBeGreaterThan(SMALL_MEDIA_MAX);
    page = await webkit.session();
    await page.goto(`${stack.portalUrl}/`);
    await page.waitFor('the service worker controls the page', 'return !!navigator.serviceWorker.controller', 60_000);
  });
  afterAll(async () => {
    await webkit?.close();
    await stack?.dispose();
  });

  for (const format of ['webm', 'fmp4'] as const) {
    it(`${format}: plays through <video src="/c/{id}/{name}"> to a first frame, then seeks`, async () => {
      const v = media[format];
      await startVideo(page, `/c/${v.id}/${encodeURIComponent(v.name)}`);
      const played = await waitPlaying(page, `${format} plays`, 1);
      await page.run(`const v = document.getElementById('under-test'); const t0 = performance.now();
        v.addEventListener('seeked', () => { window.seekedMs = performance.now() - t0; }, { once: true }); v.currentTime = 21;`);
      const seeked = await waitPlaying(page, `${format} plays after a seek to 21 s`, 21.3);
      console.log(`WebKit ${format}: first frame ${Math.round(played.firstFrameMs ?? NaN)} ms after src was set, seek answered in ${Math.round(seeked.seekedMs ?? NaN)} ms`);
      expect(played.firstFrameMs).toBeGreaterThan(0);
      await page.run(`const v = document.getElementById('under-test'); v.pause(); v.removeAttribute('src'); v.load();`);
    });
  }

  it('the app\'s player plays both formats through the service worker', async () => {
    for (const format of ['webm', 'fmp4'] as const) {
      await page.goto(`${stack.portalUrl}/#/play/${media[format].id}`);
      await page.waitFor('the player connects', 'return document.documentElement.dataset.proxy === "service-worker"', 30_000);
      await page.waitFor('the play button', 'const b = document.querySelector("button.play"); if (b) b.click(); return !!b;', 30_000);
      const r = await page.waitFor<{ path: string; firstFrameMs: number }>(`${format} plays in the player`, `const p = window.bunsanPlayer;
        if (p?.state === 'error') throw new Error(p.error);
        return (document.querySelector('video')?.currentTime ?? 0) > 2 && { path: p.path, firstFrameMs: p.firstFrameMs };`, 45_000);
      console.log(`WebKit ${format} in the app's player (${r.path}): first frame ${Math.round(r.firstFrameMs)} ms after play`);
      expect(r.firstFrameMs).toBeGreaterThan(0);
    }
  });

  it('answers a Range request byte-exact', async () => {
    const v = media.webm;
    for (const [range, start, end] of [['bytes=100-65635', 100, 65635], [`bytes=${v.bytes.length - 1000}-`, v.bytes.length - 1000, v.bytes.length - 1]] as const) {
      const got = await page.runAsync<{ status: number; contentRange: string | null; length: number; sha: string }>(`
        const res = await fetch(arguments[0], { headers: { range: arguments[1] } });
        const body = new Uint8Array(await res.arrayBuffer());
        const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', body));
        return { status: res.status, contentRange: res.headers.get('content-range'), length: body.length,
          sha: Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('') };`, `/c/${v.id}/${encodeURIComponent(v.name)}`, range);
      const want = v.bytes.subarray(start, end + 1);
      expect(got, range).toEqual({
        status: 206, contentRange: `bytes ${start}-${end}/${v.bytes.length}`, length: want.length, sha: createHash('sha256').update(want).digest('hex'),
      });
    }
  });
});
