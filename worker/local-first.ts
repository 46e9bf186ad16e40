// The saved copy first: chunk requests are answered from the offline store when it holds the
// chunk (no network, and the engine still checks stamp, hash and decryption as for a node), and
// manifests and the portal's key fall back to the stored ones when the portal cannot be reached.
// Downloads of a saved content keep their measurements to themselves: a chunk read from the
// store says how fast the device is, not the node, and must not enter the node history.
import { BunsanError } from '../protocol/errors.ts';
import type { FetchLike } from '../protocol/engine/fetch-chunk.ts';
import type { EngineSession } from '../protocol/engine/session.ts';
import { STAMP_HEADER } from '../protocol/node-protocol.ts';
import type { ContentSource } from '../protocol/serve/content-source.ts';
import type { OfflineStore } from './offline-store.ts';

const CHUNK_PATH = /\/v1\/chunks\/([0-9a-f]{64})$/;

export const chunkHashOf = (url: string) => CHUNK_PATH.exec(new URL(url).pathname)?.[1] ?? null;

export function localFirstFetch(store: OfflineStore, network: FetchLike): FetchLike {
  return async (url, init) => {
    const hash = (init?.method ?? 'GET') === 'GET' ? chunkHashOf(url) : null;
    const saved = hash ? await store.chunk(hash).catch(() => undefined) : undefined;
    if (!saved) return network(url, init);
    return new Response(saved.sealed as BodyInit, {
      status: 200, headers: { [STAMP_HEADER]: saved.stamp, 'content-length': String(saved.sealed.length) },
    });
  };
}

export function localFirstEngine(store: OfflineStore, engine: Pick<EngineSession, 'prepare'>): Pick<EngineSession, 'prepare'> {
  return {
    async prepare(input) {
      const saved = ((await store.item(input.manifest.id).catch(() => undefined))?.savedChunks ?? 0) > 0;
      // Its own table, and no probe: the chunks come from the store, the nodes are not being chosen.
      return engine.prepare(saved ? { stats: new Map(), probe: false, ...input } : input);
    },
  };
}

/** Only an unreachable portal falls back: a portal that answers (e.g. "deleted") is believed. */
const unreachable = (err: unknown) => err instanceof BunsanError && err.code === 'node_unreachable';

export function localFallbackSource(store: OfflineStore, network: ContentSource): ContentSource {
  return {
    async manifest(id, grant) {
      try {
        return await network.manifest(id, grant);
      } catch (err) {
        const saved = unreachable(err) ? await store.manifest(id) : null;
        if (saved) return saved;
        throw err;
      }
    },
    async publicKey() {
      try {
        return await network.publicKey();
      } catch (err) {
        const saved = unreachable(err) ? await store.portalKey() : undefined;
        if (saved) return saved;
        throw err;
      }
    },
    forget: (id) => network.forget(id),
  };
}
