// The page's view of the portal: the same typed client the CLI uses, on the page's origin.
import { createApiClient } from '../../protocol/api-client.ts';
import type { CryptoLike } from '../../protocol/crypto-like.ts';
import { createContentSource } from '../../protocol/serve/content-source.ts';

const fetchFn = (u: string, i?: RequestInit) => fetch(u, i);
export const now = () => performance.timeOrigin + performance.now();
export const cryptoLike = crypto as CryptoLike;

export const api = createApiClient({ portal: location.origin, fetch: fetchFn });

/** Manifests and the public key, for the in-page engine and for the player's facts. */
export const contentSource = createContentSource({ portal: location.origin, fetch: fetchFn, crypto: cryptoLike, now });
export { fetchFn };
