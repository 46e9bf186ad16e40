// Driving the player page: open it, press Play, wait for the video to reach a time, and read
// what the page reports (window.bunsanPlayer).
import type { Page } from 'playwright-core';

export interface PlayerReport {
  mode: string; path?: string; state?: string; mime?: string | null; error?: string | null;
  firstFrameMs?: number | null; needed?: number; seeks?: number; throughput?: number; bitrate?: number; received?: number;
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

export const currentTime = (page: Page) => page.evaluate(() => document.querySelector('video')?.currentTime ?? 0);

export const playerReport = (page: Page) => page.evaluate(() => JSON.parse(JSON.stringify(window.bunsanPlayer ?? null)) as PlayerReport);
