// Driving the player page: open it, press Play, wait for the video to reach a time, and read
// what the page reports (window.bunsanPlayer).
import type { Page } from 'playwright-core';

export interface PlayerReport {
  mode: string; path?: string; state?: string; mime?: string | null; error?: string | null;
  firstFrameMs?: number | null; needed?: number; seeks?: number; throughput?: number; bitrate?: number; received?: number;
  unsupported?: string | null; opens?: number[]; bufferedBytes?: [number, number][]; bufferedChunks?: number[];
}

export async function pressPlay(page: Page): Promise<void> {
  await page.locator('button.play').click({ timeout: 30_000 });
}

export async function waitForTime(page: Page, seconds: number, timeoutMs = 60_000): Promise<number> {
  try {
    await page.waitForFunction((t) => {
      const p = window.bunsanPlayer as { state?: string; error?: string | null } | undefined;
      if (p?.state === 'error') throw new Error(p.error ?? 'player error');
      return (document.querySelector('video')?.currentTime ?? 0) > t;
    }, seconds, { timeout: timeoutMs, polling: 200 });
  } catch (err) {
    const report = await playerReport(page).catch(() => null);
    throw new Error(`video did not reach ${seconds} s: ${(err as Error).message}\nplayer: ${JSON.stringify(report)}`);
  }
  return currentTime(page);
}

/** Sets the play head, as dragging the seek bar does. */
export async function seekTo(page: Page, seconds: number): Promise<void> {
  await page.evaluate((t) => { document.querySelector('video')!.currentTime = t; }, seconds);
}

/** The video's duration and the end of what it has buffered, in seconds. */
export const videoTimes = (page: Page) => page.evaluate(() => {
  const v = document.querySelector('video')!;
  return { duration: v.duration, bufferedEnd: v.buffered.length ? v.buffered.end(v.buffered.length - 1) : 0 };
});

/** The chunk map's cells marked as in the media buffer. */
export const markedBuffered = (page: Page) => page.evaluate(() =>
  [...document.querySelectorAll('.chunk-map span')].flatMap((c, i) => (c.classList.contains('buffered') ? [i] : [])));

export const currentTime = (page: Page) => page.evaluate(() => document.querySelector('video')?.currentTime ?? 0);

export const playerReport = (page: Page) => page.evaluate(() => JSON.parse(JSON.stringify(window.bunsanPlayer ?? null)) as PlayerReport);
