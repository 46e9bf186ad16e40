// The service worker entry: the user's proxy program. Content URLs under the scope are answered
// by the shared engine (saved chunks first), the app shell network-first with an offline
// cache, and pages' offline requests by message. Everything else goes to the network untouched.
import type { CryptoLike } from '../protocol/crypto-like.ts';
import { createContentSource } from '../protocol/serve/content-source.ts';
import type { OfflineAnswer, OfflineRequest } from '../protocol/serve/offline-messages.ts';
import { PlainWindow } from '../protocol/serve/plain-window.ts';
import { contentHandler } from './content-handler.ts';
import { browserEngine } from './engine-setup.ts';
import { eventRelay } from './event-relay.ts';
import { localFallbackSource, localFirstEngine, localFirstFetch } from './local-first.ts';
import { messageHandler } from './messages.ts';
import { OfflineStore } from './offline-store.ts';
import { cacheShell, dropOldShells, shellHandler } from './shell-cache.ts';
import type { SwScope } from './sw-types.ts';

const sw = self as unknown as SwScope;
/** Decrypted chunks kept for repeated Range requests: bounded, never the whole file. */
const WINDOW_BYTES = 48 * 1024 * 1024;
const network = (u: string, i?: RequestInit) => fetch(u, i);
const now = () => performance.timeOrigin + performance.now();
const cryptoLike = crypto as CryptoLike;
const store = new OfflineStore();
// One engine session for every request and save: node history (IndexedDB), settings, reports.
const engine = browserEngine({ portal: sw.location.origin, fetch: localFirstFetch(store, network), crypto: cryptoLike, now });
const portal = createContentSource({ portal: sw.location.origin, fetch: network, crypto: cryptoLike, now });

const content = contentHandler({
  scope: sw.registration.scope, source: localFallbackSource(store, portal), cache: new PlainWindow(WINDOW_BYTES),
  engine: localFirstEngine(store, engine), onEvent: eventRelay(),
});
const shell = shellHandler(sw.location.origin);
const answer = messageHandler(store, { source: portal, fetch: network, crypto: cryptoLike, now, engine: localFirstEngine(store, engine) });

// The first version takes over at once (a first visit waits for its claim, not for a reload).
// A later one waits until the user accepts the page's update prompt, which sends SKIP_WAITING,
// so playback is never cut by an update; an update that cannot cache its shell is discarded.
sw.addEventListener('install', (e) => e.waitUntil(cacheShell().then(
  () => (sw.registration.active ? undefined : sw.skipWaiting()),
  (err) => { if (sw.registration.active) throw err; return sw.skipWaiting(); })));
sw.addEventListener('activate', (e) => e.waitUntil(Promise.all([dropOldShells().catch(() => {}), sw.clients.claim()])));
sw.addEventListener('fetch', (e) => {
  if (content.canHandle(e.request)) e.respondWith(content.handle(e.request));
  else if (shell.canHandle(e.request)) e.respondWith(shell.handle(e.request));
});
sw.addEventListener('message', (e) => {
  if ((e.data as { type?: unknown } | null)?.type === 'SKIP_WAITING') return e.waitUntil(sw.skipWaiting());
  const port = e.ports[0];
  const reply = (a: OfflineAnswer) => port?.postMessage(a);
  e.waitUntil(answer(e.data as OfflineRequest).then((value) => reply({ ok: true, value }), (err) => reply({ ok: false, error: (err as Error).message })));
});
