// Manifests and the portal's public key for a client that plays many requests of one content
// (the service worker, the in-page player): each manifest is asked for once and kept a while,
// since media elements fire several requests per second at the same content. Its download
// token lives for hours, so a few minutes of reuse is safe; a failing one is dropped at once.
import { createApiClient } from '../api-client.ts';
import type { CryptoLike } from '../crypto-like.ts';
import type { FetchLike } from '../engine/fetch-chunk.ts';
import type { Manifest } from '../manifest.ts';
import { importPublicKey } from '../signing.ts';

export interface ContentSourceOptions {
  portal: string;
  fetch: FetchLike;
  crypto: CryptoLike;
  now: () => number;
  /** how long a manifest is reused (default 5 minutes) */
  ttlMs?: number;
}

export interface ContentSource {
  /** `grant`: the viewer's credential for a private content (a link's ?grant=) */
  manifest(id: string, grant?: string): Promise<Manifest>;
  publicKey(): Promise<CryptoKey>;
  /** drops a manifest, e.g. after its token was refused */
  forget(id: string): void;
}

export function createContentSource(o: ContentSourceOptions): ContentSource {
  const api = createApiClient({ portal: o.portal, fetch: o.fetch });
  const ttl = o.ttlMs ?? 5 * 60_000;
  const manifests = new Map<string, { at: number; value: Promise<Manifest> }>();
  let key: Promise<CryptoKey> | null = null;
  return {
    manifest(id, grant) {
      // Kept per grant too: one viewer's grant must not open the content for a request without it.
      const key = grant ? `${id}\n${grant}` : id;
      const hit = manifests.get(key);
      if (hit && o.now() - hit.at < ttl) return hit.value;
      const value = api.manifest(id, grant);
      manifests.set(key, { at: o.now(), value });
      // A failed lookup is not remembered: the next request asks again.
      value.catch(() => { if (manifests.get(key)?.value === value) manifests.delete(key); });
      return value;
    },
    publicKey() {
      key ??= api.keys().then((k) => importPublicKey(o.crypto, k.signingPublicKey));
      key.catch(() => { key = null; });
      return key;
    },
    forget(id) {
      for (const k of manifests.keys()) if (k === id || k.startsWith(`${id}\n`)) manifests.delete(k);
    },
  };
}

/** The manifest as the portal gives it now, not the one kept: asked for when a chunk's copies have moved. */
export function freshManifest(source: ContentSource, id: string, grant?: string): Promise<Manifest> {
  source.forget(id);
  return source.manifest(id, grant);
}
