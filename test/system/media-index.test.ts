// The media index end to end on the real local stack: `bunsan upload` of real ffmpeg media, in
// direct mode (indexed by the CLI) and through the gateway (indexed at the edge, over several
// requests), leaves a manifest whose seek points are the file's keyframe Clusters / moofs.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiClient } from '../../protocol/api-client.ts';
import { MediaIndexer } from '../../protocol/media/media-indexer.ts';
import { makeVideo } from '../browser/media.ts';
import { cli, startTestStack, type TestStack } from './local-stack.ts';

const SECONDS = 30; // at 600 kbps over 64 KiB chunks: more than one gateway request (32 chunks each)

describe('media index through the CLI', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack(2);
  });
  afterAll(async () => {
    await stack?.dispose();
  });

  const expected = (path: string) => {
    const ix = new MediaIndexer();
    ix.push(new Uint8Array(readFileSync(path)));
    return ix.finish()!;
  };

  async function upload(path: string, extra: string[]) {
    const up = await cli(stack, ['upload', path, '--json', '--chunk-size', String(64 * 1024), ...extra]);
    expect(up.code, up.stderr).toBe(0);
    // More chunks than one gateway request carries: the edge's indexer goes on across requests.
    if (extra.includes('--gateway')) expect(up.json().chunks).toBeGreaterThan(32);
    return up.json().id as string;
  }

  for (const mode of ['direct', 'gateway'] as const) {
    it(`${mode}: a WebM's manifest carries seek points at its keyframe Clusters`, async () => {
      const path = makeVideo('webm', SECONDS);
      const bytes = readFileSync(path);
      const id = await upload(path, mode === 'gateway' ? ['--gateway'] : []);
      const api = createApiClient({ portal: stack.portalUrl, token: stack.token, fetch: (u, i) => fetch(u, i) });
      const media = (await api.manifest(id)).media!;
      expect(media).toEqual(expected(path));
      expect(media).toMatchObject({ container: 'webm', mime: 'video/webm; codecs="vp9,opus"', streamable: true });
      expect(media.duration).toBeCloseTo(SECONDS, 0);
      expect(media.seek.length).toBe(SECONDS / 2);
      for (const [, at] of media.seek) expect(bytes.readUInt32BE(at)).toBe(0x1f43b675);
      media.seek.slice(1).forEach(([t], i) => expect(t - media.seek[i][0]).toBeCloseTo(2, 1));

      const info = await cli(stack, ['info', id, '--json']);
      expect(info.json().media).toEqual(media);
      const human = await cli(stack, ['info', id]);
      expect(human.stdout.toString()).toMatch(new RegExp(`media webm .*duration ${SECONDS}\\.\\d s {2}${SECONDS / 2} seek points {2}streamable`));
    });
  }

  it('direct: a fragmented MP4 gets its moofs, a plain MP4 is marked not streamable', async () => {
    const api = createApiClient({ portal: stack.portalUrl, token: stack.token, fetch: (u, i) => fetch(u, i) });
    const fmp4 = makeVideo('fmp4', 10);
    const f = (await api.manifest(await upload(fmp4, []))).media!;
    expect(f).toEqual(expected(fmp4));
    expect(f.seek.length).toBe(5);
    for (const [, at] of f.seek) expect(readFileSync(fmp4).subarray(at + 4, at + 8).toString()).toBe('moof');
    const plainId = await upload(makeVideo('mp4', 10), []);
    expect((await api.manifest(plainId)).media).toMatchObject({ container: 'mp4', streamable: false, seek: [] });
    expect((await cli(stack, ['info', plainId])).stdout.toString()).toContain('not streamable');
  });
});
