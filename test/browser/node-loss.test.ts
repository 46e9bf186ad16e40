// A node is stopped in the middle of playback: the engine backs it off, fetches its chunks from
// the other replicas, and the video plays on. The player reads only a few seconds ahead
// (?ahead=3), so most chunks are still to be fetched when the node goes away.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { createApiClient } from '../../protocol/api-client.ts';
import { startTestStack, type TestStack } from '../system/local-stack.ts';
import { launchChromium, openPage, proxyMode } from './chromium.ts';
import { makeVideo } from './media.ts';
import { currentTime, playerReport, pressPlay, waitForTime } from './play.ts';
import { uploadFile } from './upload.ts';
import { WINDOW_BYTES } from '../../web/src/player/windowed-fetch.ts';

type ChunkOutcome = { index: number; node: string; ok: boolean; at: number };
const outcomes = async (page: import('playwright-core').Page) =>
  page.evaluate(() => (window.bunsanPlayer as unknown as { chunks: ChunkOutcome[] }).chunks.slice());

describe('node loss during playback', () => {
  let stack: TestStack;
  let browser: Browser;

  beforeAll(async () => {
    [stack, browser] = await Promise.all([startTestStack(3), launchChromium()]);
  });
  afterAll(async () => {
    await browser?.close();
    await stack?.dispose();
  });

  it('plays on when a node holding chunks still to come is stopped', async () => {
    const video = await uploadFile(stack, makeVideo('webm', 60, 2000), 'video/webm', { replicas: 2 });
    const manifest = await createApiClient({ portal: stack.portalUrl, fetch: (u, i) => fetch(u, i) }).manifest(video.id);
    const { context, page, logs } = await openPage(browser, `${stack.portalUrl}/#/play/${video.id}?ahead=3`);
    try {
      expect(await proxyMode(page)).toBe('service-worker');
      await pressPlay(page);
      await waitForTime(page, 2);
      const victim = stack.nodes[0];
      const before = await outcomes(page);
      // The stream's progress: chunks 0..lastBefore all arrived (the seek index reads a few at the end too).
      const got = new Set(before.filter((c) => c.ok).map((c) => c.index));
      let lastBefore = -1;
      while (got.has(lastBefore + 1)) lastBefore++;
      expect(lastBefore).toBeLessThan(manifest.chunks.length - 10); // most of it is still to come
      // What the proxy fetched ahead of the player is bounded: about two request windows.
      expect(manifest.chunks[lastBefore].offset).toBeLessThan(2 * WINDOW_BYTES + 1024 * 1024);
      await victim.stop();
      const t0 = await currentTime(page);
      await waitForTime(page, t0 + 20, 90_000);
      const after = (await outcomes(page)).slice(before.length).filter((c) => c.ok && c.index > lastBefore);
      // Chunks the stopped node held were delivered after it stopped, by their other replica.
      const heldByVictim = after.filter((c) => manifest.chunks[c.index].nodes.includes(victim.id));
      expect(heldByVictim.length).toBeGreaterThan(0);
      expect(after.every((c) => c.node !== victim.id || c.index <= lastBefore + 16)).toBe(true);
      const r = await playerReport(page);
      expect(r.error ?? null).toBeNull();
      console.log(`node ${victim.id} stopped at ${t0.toFixed(1)} s (chunk ${lastBefore} of ${manifest.chunks.length} fetched); ${after.length} chunks after, ${heldByVictim.length} of them from the other replica`);
    } finally {
      if (logs.length) console.log(logs.join('\n'));
      await context.close();
    }
  });
});
