// A seek outside the buffer, checked against the index the upload put in the manifest: the
// stream after the seek opens at the index point for the target (at or before it, well past
// the start), the page asks the service worker for that very byte, playback goes on from
// there, and the chunk map marks the chunks from that point on and none from the start.
import type { Page } from 'playwright-core';
import { expect } from 'vitest';
import type { Manifest } from '../../protocol/manifest.ts';
import { markedBuffered, playerReport, seekTo, videoTimes, waitForTime, type PlayerReport } from './play.ts';

/** The chunk holding byte `at`. */
export const chunkOf = (m: Manifest, at: number) => m.chunks.findLastIndex((c) => c.offset <= at);

/** With the player started and reading capped (?ahead=2), seeks to `target` seconds and checks all of the above. */
export async function seekThroughIndex(page: Page, m: Manifest, target: number): Promise<PlayerReport> {
  const media = m.media!;
  expect(media, 'the manifest carries the media index').toBeTruthy();
  const ranges: string[] = [];
  page.on('request', (r) => { if (r.url().includes(`/c/${m.id}`) && r.headers().range) ranges.push(r.headers().range); });
  await waitForTime(page, 1);
  const before = await videoTimes(page);
  expect(before.bufferedEnd).toBeLessThan(target); // the target is not buffered: the seek must fetch
  // The seek bar spans the whole media from the start, from the index's duration.
  if (media.duration) expect(before.duration).toBeCloseTo(media.duration, 0);
  expect(before.duration).toBeGreaterThan(target);

  await seekTo(page, target);
  await waitForTime(page, target + 1.5);
  const r = await playerReport(page);
  expect(r.error ?? null).toBeNull();
  expect(r.seeks).toBe(1);
  expect(r.opens).toHaveLength(2);
  const at = r.opens![1];
  const point = media.seek.filter(([t]) => t <= target).at(-1)!;
  expect(at).toBe(point[1]);
  expect(point[0]).toBeLessThanOrEqual(target);
  expect(point[0]).toBeGreaterThan(target - 4); // a nearby point, not the first one
  expect(at).toBeGreaterThan(m.size * 0.5);
  expect(ranges.some((h) => h.startsWith(`bytes=${at}-`)), `a Range request from ${at} in ${ranges.join(', ')}`).toBe(true);

  // What is buffered now starts at the point's chunk; the DOM shows the same cells.
  const { report, marked } = await page.evaluate(() => ({
    report: JSON.parse(JSON.stringify(window.bunsanPlayer)) as { bufferedChunks: number[] },
    marked: [...document.querySelectorAll('.chunk-map span')].flatMap((c, i) => (c.classList.contains('buffered') ? [i] : [])),
  }));
  expect(report.bufferedChunks[0]).toBe(chunkOf(m, at));
  expect(report.bufferedChunks).not.toContain(0);
  expect(marked).toEqual(report.bufferedChunks);
  expect(await markedBuffered(page)).not.toContain(0);
  return r;
}
