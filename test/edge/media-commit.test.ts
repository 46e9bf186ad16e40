// The media index at commit, inside workerd: the uploader's index is checked against the
// content and kept for the manifest and info; a bad one is refused with an envelope and leaves
// the content as it was; in gateway mode the edge builds the index itself, across requests.
import { env, runInDurableObject } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ContentManager } from '../../edge/portal/index.ts';
import { MAX_SEEK_POINTS, type MediaIndex } from '../../protocol/media/media-index.ts';
import { uploadDirect } from '../../protocol/upload/direct.ts';
import { apiFor, bearerOf, cryptoLike, envelope, JSON_CT, newProvider, portalCall, randomBytes, registerNode, routeNodes } from './edge-stack.ts';
import { tinyWebm } from './tiny-webm.ts';

const CHUNK = 65536;
let token = '';

beforeAll(async () => {
  routeNodes();
  await registerNode('n1');
  await registerNode('n2');
  token = await newProvider('media');
});

/** An upload whose every chunk is stored, not yet committed. */
async function storedUpload(bytes: Uint8Array) {
  const api = apiFor(token);
  const session = await api.openUpload({ name: 'v.webm', type: 'video/webm', size: bytes.length, replicas: 1, chunking: { mode: 'regular', size: CHUNK } });
  const r = await uploadDirect({ api, session, crypto: cryptoLike, fetch: (u, i) => fetch(u, i), read: async (o, l) => bytes.subarray(o, o + l) });
  return { id: session.id, built: r.media };
}

const commit = (id: string, body?: unknown) => portalCall(`/api/v1/uploads/${id}/commit`, {
  method: 'POST', headers: { ...bearerOf(token), ...(body === undefined ? {} : JSON_CT) }, body: body === undefined ? undefined : JSON.stringify(body),
});

const mediaRows = (id: string) => runInDurableObject(env.MANAGER.get(env.MANAGER.idFromName(id)), async (_m: ContentManager, state) =>
  state.storage.sql.exec<{ k: string }>('SELECT k FROM media').toArray().map((r) => r.k));

const index = (seek: [number, number][], extra: Partial<MediaIndex> = {}): MediaIndex =>
  ({ container: 'webm', mime: 'video/webm; codecs="vp9"', duration: 12.5, streamable: true, seek, ...extra });

describe('media index at commit', () => {
  it('is built by the shared direct uploader, kept at commit and served in the manifest and info', async () => {
    const { bytes, clusterAt } = tinyWebm(8);
    const { id, built } = await storedUpload(bytes);
    expect(built?.seek).toEqual(clusterAt.map((at, i) => [i, at]));
    expect((await commit(id, { media: built })).status).toBe(200);
    const manifest = await apiFor(token).manifest(id);
    expect(manifest.media).toEqual(built);
    expect((await apiFor(token).info(id)).media).toEqual(built);
    expect(await mediaRows(id)).toEqual(['index']);
  });

  it('is whole after a resumed upload that reads of the stored chunks only what the indexer needs', async () => {
    const { bytes, clusterAt } = tinyWebm(10);
    const api = apiFor(token);
    const opened = await api.openUpload({ name: 'r.webm', type: 'video/webm', size: bytes.length, replicas: 1, chunking: { mode: 'regular', size: CHUNK } });
    const run = (read: (o: number, l: number) => Promise<Uint8Array>, session = opened) =>
      uploadDirect({ api, session, crypto: cryptoLike, fetch: (u, i) => fetch(u, i), read, batchSize: 1, parallelBatches: 1 });
    // The first run dies when it reaches chunk 3.
    const cut = await run(async (o, l) => {
      if (o >= 3 * CHUNK) throw new Error('the disk went away');
      return bytes.subarray(o, o + l);
    }).catch((e: Error) => e);
    expect(cut).toBeInstanceOf(Error);
    const session = await api.session(opened.id);
    expect(session.stored).toEqual([0, 1, 2]);
    let read = 0;
    const again = await run(async (o, l) => { read += l; return bytes.subarray(o, o + l); }, session);
    expect(again.skippedChunks).toBe(3);
    expect(again.media?.seek).toEqual(clusterAt.map((at, i) => [i, at]));
    expect(read).toBeLessThan(bytes.length);
  });

  it('refuses a bad index with invalid_body and leaves the content uncommitted and unchanged', async () => {
    const size = 3 * CHUNK + 10;
    const { id } = await storedUpload(randomBytes(size));
    const tooMany = Array.from({ length: MAX_SEEK_POINTS + 1 }, (_, i): [number, number] => [i, i]);
    const cases: [string, unknown][] = [
      ['times out of order', index([[0, 0], [5, 100], [4, 200]])],
      ['offsets out of order', index([[0, 500], [5, 100]])],
      ['offset at the size', index([[0, 0], [5, size]])],
      ['offset past the size', index([[0, 0], [5, size + 1000]])],
      [`${MAX_SEEK_POINTS + 1} points`, index(tooMany)],
      ['unknown container', index([[0, 0]], { container: 'avi' as 'webm' })],
      ['negative time', index([[-1, 0]])],
      ['a stray field', { media: index([[0, 0]]), extra: 1 }],
    ];
    for (const [what, media] of cases) {
      const body = what === 'a stray field' ? media : { media };
      expect(await envelope(await commit(id, body)), what).toEqual([400, 'invalid_body']);
      expect((await apiFor(token).session(id)).state, what).toBe('uploading');
      expect(await envelope(await portalCall(`/api/v1/contents/${id}/manifest`, { headers: bearerOf(token) })), what).toEqual([409, 'not_committed']);
    }
    expect(await mediaRows(id)).toEqual([]);
    // The same content then commits with a good index, and a bad one sent again changes nothing.
    const good = index([[0, 0], [2, 2 * CHUNK]]);
    expect((await commit(id, { media: good })).status).toBe(200);
    expect(await envelope(await commit(id, { media: index([[0, size]]) }))).toEqual([400, 'invalid_body']);
    expect((await apiFor(token).manifest(id)).media).toEqual(good);
  });

  it('commits without a body or without media, and then the manifest has no media', async () => {
    for (const body of [undefined, {}]) {
      const { id } = await storedUpload(randomBytes(CHUNK + 1));
      expect((await commit(id, body)).status).toBe(200);
      expect((await apiFor(token).manifest(id)).media).toBeUndefined();
      expect(await mediaRows(id)).toEqual([]);
    }
  });
});

describe('media index in gateway mode', () => {
  async function openGateway(size: number) {
    return apiFor(token).openUpload({ name: 'g.webm', type: 'video/webm', size, replicas: 1, chunking: { mode: 'regular', size: CHUNK } });
  }
  const put = (id: string, from: number, body: Uint8Array) =>
    portalCall(`/api/v1/uploads/${id}/data?from=${from}`, { method: 'PUT', headers: { ...bearerOf(token), 'content-type': 'application/octet-stream' }, body: body as BodyInit });

  it('is built by the edge across requests that split the file, and kept at commit', async () => {
    const { bytes, clusterAt } = tinyWebm(12);
    const s = await openGateway(bytes.length);
    // The first request ends mid-file (inside a Cluster); the second goes on from its `next`.
    const first = (await (await put(s.id, 0, bytes.subarray(0, 3 * CHUNK + 500))).json()) as { next: number };
    expect(first.next).toBe(3);
    // Sent again from the start (as after a lost answer), already stored chunks are only re-read.
    expect(((await (await put(s.id, 0, bytes.subarray(0, 2 * CHUNK))).json()) as { next: number }).next).toBe(3);
    expect((await put(s.id, 3, bytes.subarray(3 * CHUNK))).status).toBe(200);
    expect(await mediaRows(s.id)).toEqual(['indexer']);
    expect((await commit(s.id)).status).toBe(200);
    const media = (await apiFor(token).manifest(s.id)).media!;
    expect(media).toMatchObject({ container: 'webm', mime: 'video/webm; codecs="vp9"', duration: 12, streamable: true });
    expect(media.seek).toEqual(clusterAt.map((at, i) => [i, at]));
    expect(await mediaRows(s.id)).toEqual(['index']);
  });

  it('goes without an index when the edge lost what it saw of the file', async () => {
    const { bytes } = tinyWebm(6);
    const s = await openGateway(bytes.length);
    expect((await put(s.id, 0, bytes.subarray(0, 2 * CHUNK))).status).toBe(200);
    // As if the worker died before it could save: the manager holds no indexer state.
    await runInDurableObject(env.MANAGER.get(env.MANAGER.idFromName(s.id)), async (_m: ContentManager, state) => {
      state.storage.sql.exec('DELETE FROM media');
    });
    expect((await put(s.id, 2, bytes.subarray(2 * CHUNK))).status).toBe(200);
    expect((await commit(s.id)).status).toBe(200);
    expect((await apiFor(token).manifest(s.id)).media).toBeUndefined();
  });
});
