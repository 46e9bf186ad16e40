// The service worker entry: the user's proxy program. Content URLs under the scope are answered
// by the shared engine (saved chunks first), the app shell network-first with an offline
// cache, and pages' offline requests by message. Everything else goes to the network untouched.
import type { CryptoLike } from '../protocol/crypto-like.ts';
import { createContentSource } from '../protocol/serve/content-source.ts';
import type { OfflineAnswer, OfflineRequest } from '../protocol/serve/offline-messages.ts';
import { PlainWindow } from '../protocol/serve/plain-window.ts';
import { contentHandler } from './content-handler.ts';
import { eventRelay } from './event-relay.ts';
import { localFallbackSource, localFirstFetch } from './local-first.ts';
import { messageHandler } from './messages.ts';
import { OfflineStore } from './offline-store.ts';
import { cacheShell, shellHandler } from './shell-cache.ts';
import type { SwScope } from './sw-types.ts';

const sw = self as unknown as SwScope;
/** Decrypted chunks kept for repeated Range requests: bounded, never the whole file. */
const WINDOW_BYTES = 48 * 1024 * 1024;
const network = (u: string, i?: RequestInit) => fetch(u, i);
const now = () => performance.timeOrigin + performance.now();
const cryptoLike = crypto as CryptoLike;
const stats = new Map();
const store = new OfflineStore();
const portal = createContentSource({ portal: sw.location.origin, fetch: network, crypto: cryptoLike, now });

const content = contentHandler({
  scope: sw.registration.scope, source: localFallbackSource(store, portal), cache: new PlainWindow(WINDOW_BYTES),
  crypto: cryptoLike, fetch: localFirstFetch(store, network), now, stats, onEvent: eventRelay(),
});
const shell = shellHandler(sw.location.origin);
const answer = messageHandler(store, { source: portal, fetch: network, crypto: cryptoLike, now, stats });

// A new version takes over at once: the page waits for controllerchange, not for a reload.
sw.addEventListener('install', (e) => e.waitUntil(cacheShell().catch(() => {}).then(() => sw.skipWaiting())));
sw.addEventListener('activate', (e) => e.waitUntil(sw.clients.claim()));
sw.addEventListener('fetch', (e) => {
  if (content.canHandle(e.request)) e.respondWith(content.handle(e.request));
  else if (shell.canHandle(e.request)) e.respondWith(shell.handle(e.request));
});
sw.addEventListener('message', (e) => {
  const port = e.ports[0];
  const reply = (a: OfflineAnswer) => port?.postMessage(a);
  e.waitUntil(answer(e.data as OfflineRequest).then((value) => reply({ ok: true, value }), (err) => reply({ ok: false, error: (err as Error).message })));
});
