// The engine session as the browser runs it, in the service worker and in the page alike: node
// history in IndexedDB (loaded once, saved a moment after measurements), a probe of nodes with
// no recent history, the device hint from navigator, the user's node settings read before every
// download, and chunk reports to the portal. A page that forgets the history says so on a
// BroadcastChannel, so the other sessions drop what they hold in memory too.
import { createApiClient } from '../protocol/api-client.ts';
import type { CryptoLike } from '../protocol/crypto-like.ts';
import { deviceHintFrom, type NavigatorLike } from '../protocol/engine/device-hint.ts';
import type { FetchLike } from '../protocol/engine/fetch-chunk.ts';
import { engineSession, type EngineSession } from '../protocol/engine/session.ts';
import { idbHistory } from './node-history-idb.ts';
import { readNodeChoice, SETTINGS_CHANNEL, type SettingsMessage } from './node-settings-idb.ts';

export interface BrowserEngineOptions {
  /** the portal's origin: reports go there */
  portal: string;
  /** the network (chunk and probe requests, reports) */
  fetch: FetchLike;
  crypto: CryptoLike;
  now: () => number;
}

/** A measurement is saved at most this long after it was made. */
export const SAVE_AFTER_MS = 1000;

export function browserEngine(o: BrowserEngineOptions): EngineSession {
  const api = createApiClient({ portal: o.portal, fetch: o.fetch });
  const session = engineSession({
    crypto: o.crypto, fetch: o.fetch, now: o.now,
    history: idbHistory(),
    device: deviceHintFrom(globalThis.navigator as NavigatorLike | undefined),
    choice: readNodeChoice,
    report: (id, r) => api.report(id, r),
    probe: true,
    saveAfterMs: SAVE_AFTER_MS,
  });
  if (typeof BroadcastChannel !== 'undefined') {
    new BroadcastChannel(SETTINGS_CHANNEL).onmessage = (e: MessageEvent<SettingsMessage>) => {
      if (e.data?.type === 'forget-history') void session.forget();
    };
  }
  return session;
}

/** Tells every other session (the service worker, other tabs) that the history was forgotten. */
export function announceForgotten(): void {
  if (typeof BroadcastChannel === 'undefined') return;
  const ch = new BroadcastChannel(SETTINGS_CHANNEL);
  ch.postMessage({ type: 'forget-history' } satisfies SettingsMessage);
  ch.close();
}
