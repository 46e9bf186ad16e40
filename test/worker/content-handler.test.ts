// The service worker's content handler on plain Requests: which requests it takes, 200/206/416
// answers byte-exact, the window shared across requests, and errors as JSON envelopes.
import { describe, expect, it } from 'vitest';
import { engineSession } from '../../protocol/engine/session.ts';
import { createContentSource } from '../../protocol/serve/content-source.ts';
import { PlainWindow } from '../../protocol/serve/plain-window.ts';
import { CONTENT_ANSWER_HEADERS } from '../../protocol/serve/serve-policy.ts';
import { contentHandler } from '../../worker/content-handler.ts';
import { CHUNK, FakeNetwork, createContent, cryptoLike, makeSigner } from '../protocol/fixtures.ts';

const signer = await makeSigner();
const fx = await createContent({ size: CHUNK * 4 + 77, signer });
const scope = 'https://app.test/';

/** The portal (manifest, keys) and the fixture's nodes behind one fetch, as the worker sees them. */
function setup(manifest = fx.manifest) {
  const net = new FakeNetwork(fx);
  const fetch = async (u: string, i?: RequestInit) => {
    const url = new URL(u);
    if (url.origin !== 'https://app.test') return net.fetch(u, i);
    if (url.pathname === '/api/v1/keys') return Response.json({ signingPublicKey: signer.pair.publicKey });
    if (url.pathname === `/api/v1/contents/${fx.manifest.id}/manifest`) return Response.json(manifest);
    return Response.json({ error: { code: 'content_not_found', message: 'no such content' } }, { status: 404 });
  };
  const now = () => fx.manifest.createdAt;
  const h = contentHandler({
    scope, cache: new PlainWindow(64 * CHUNK), engine: engineSession({ crypto: cryptoLike, fetch, now }), mediaSlice: CHUNK,
    source: createContentSource({ portal: 'https://app.test', fetch, crypto: cryptoLike, now }),
  });
  return { h, net };
}

const req = (path: string, init: RequestInit = {}) => new Request(new URL(path, scope), init);

describe('contentHandler', () => {
  it('takes GET and HEAD of content URLs under its scope, nothing else', () => {
    const { h } = setup();
    const id = fx.manifest.id;
    expect(h.canHandle(req(`/c/${id}`))).toBe(true);
    expect(h.canHandle(req(`/c/${id}/movie.webm`, { method: 'HEAD' }))).toBe(true);
    expect(h.canHandle(req(`/c/${id}`, { method: 'POST' }))).toBe(false);
    expect(h.canHandle(req('/api/v1/contents'))).toBe(false);
    expect(h.canHandle(new Request(`https://elsewhere.test/c/${id}`))).toBe(false);
  });

  it('answers a range byte-exact, then the same range from its window', async () => {
    const { h, net } = setup();
    const res = await h.handle(req(`/c/${fx.manifest.id}`, { headers: { range: `bytes=${CHUNK - 5}-` } }));
    expect(res.status).toBe(206);
    expect(res.headers.get('content-range')).toBe(`bytes ${CHUNK - 5}-${fx.plain.length - 1}/${fx.plain.length}`);
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(fx.plain.subarray(CHUNK - 5));
    const asked = net.requests.length;
    const again = await h.handle(req(`/c/${fx.manifest.id}`, { headers: { range: 'bytes=-100' } }));
    expect(new Uint8Array(await again.arrayBuffer())).toEqual(fx.plain.subarray(fx.plain.length - 100));
    expect(net.requests.length).toBe(asked);
  });

  it('answers a media element\'s open-ended range with at most one slice', async () => {
    const { h } = setup();
    const media = req(`/c/${fx.manifest.id}`, { headers: { range: 'bytes=100-' } });
    Object.defineProperty(media, 'destination', { value: 'video' });
    const res = await h.handle(media);
    expect(res.headers.get('content-range')).toBe(`bytes 100-${100 + CHUNK - 1}/${fx.plain.length}`);
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(fx.plain.subarray(100, 100 + CHUNK));
  });

  it('answers 416 and JSON errors', async () => {
    const { h } = setup();
    const past = await h.handle(req(`/c/${fx.manifest.id}`, { headers: { range: `bytes=${fx.plain.length}-` } }));
    expect(past.status).toBe(416);
    const missing = await h.handle(req(`/c/${'0'.repeat(32)}`));
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe('content_not_found');
  });

  it('puts the content headers on every answer, errors included, and serves a page as a download', async () => {
    const { h } = setup({ ...fx.manifest, type: 'text/html', name: 'page.html' });
    const answers = [
      await h.handle(req(`/c/${fx.manifest.id}/page.html`)),
      await h.handle(req(`/c/${fx.manifest.id}`, { headers: { range: 'bytes=0-9' } })),
      await h.handle(req(`/c/${fx.manifest.id}`, { headers: { range: `bytes=${fx.plain.length}-` } })),
      await h.handle(req(`/c/${'0'.repeat(32)}`)),
    ];
    expect(answers.map((r) => r.status)).toEqual([200, 206, 416, 404]);
    for (const res of answers) {
      for (const [k, v] of Object.entries(CONTENT_ANSWER_HEADERS)) expect(res.headers.get(k), `${res.status} ${k}`).toBe(v);
    }
    expect(answers[0].headers.get('content-type')).toBe('application/octet-stream');
    expect(answers[0].headers.get('content-disposition')).toMatch(/^attachment; /);
    expect(new Uint8Array(await answers[0].arrayBuffer())).toEqual(fx.plain);
  });

  it('sends a page that opens a video to the app\'s player, and gives the video to a media element', async () => {
    const { h } = setup({ ...fx.manifest, type: 'video/webm', name: 'clip.webm' });
    const as = (r: Request, mode: string, destination: string) => Object.defineProperties(r, { mode: { value: mode }, destination: { value: destination } });
    const opened = await h.handle(as(req(`/c/${fx.manifest.id}/clip.webm?grant=g%2B1`), 'navigate', 'document'));
    expect(opened.status).toBe(303);
    expect(opened.headers.get('location')).toBe(`${scope}#/play/${fx.manifest.id}?grant=g%2B1`);
    expect(opened.headers.get('content-security-policy')).toBe(CONTENT_ANSWER_HEADERS['content-security-policy']);
    const played = await h.handle(as(req(`/c/${fx.manifest.id}`, { headers: { range: 'bytes=0-' } }), 'no-cors', 'video'));
    expect(played.status).toBe(206);
    expect(played.headers.get('content-type')).toBe('video/webm');
    // a frame is no page of the app: it gets the bytes, under the sandbox, and is refused by frame-ancestors
    const framed = await h.handle(as(req(`/c/${fx.manifest.id}`), 'navigate', 'iframe'));
    expect(framed.status).toBe(200);
    await framed.body?.cancel();
  });
});
