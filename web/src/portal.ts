// The page's view of the portal: the same typed client the CLI uses, on the page's origin, and
// the engine session the page runs when no service worker controls it.
import { createApiClient } from '../../protocol/api-client.ts';
import type { CryptoLike } from '../../protocol/crypto-like.ts';
import type { EngineSession } from '../../protocol/engine/session.ts';
import { createContentSource } from '../../protocol/serve/content-source.ts';
import { browserEngine } from '../../worker/engine-setup.ts';

const fetchFn = (u: string, i?: RequestInit) => fetch(u, i);
export const now = () => performance.timeOrigin + performance.now();
export const cryptoLike = crypto as CryptoLike;

export const api = createApiClient({ portal: location.origin, fetch: fetchFn });

/** Manifests and the public key, for the in-page engine and for the player's facts. */
export const contentSource = createContentSource({ portal: location.origin, fetch: fetchFn, crypto: cryptoLike, now });
export { fetchFn };

let session: EngineSession | null = null;

/**
 * The in-page engine's session, made on first use: the same node history (IndexedDB) and node
 * settings as the service worker's, so either path starts from what the other learnt.
 */
export function pageEngine(): EngineSession {
  session ??= browserEngine({ portal: location.origin, fetch: fetchFn, crypto: cryptoLike, now });
  return session;
}
