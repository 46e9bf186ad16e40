// Saving a content for offline use: the shared engine downloads it as for playing, through a
// fetch that keeps each chunk's sealed bytes; once the engine has verified a chunk (stamp, hash,
// decryption) those bytes go to the offline store. Plaintext is dropped. Chunks already saved
// come from the store, so an interrupted save resumes where it stopped.
import type { CryptoLike } from '../protocol/crypto-like.ts';
import { downloadContent } from '../protocol/engine/download.ts';
import type { FetchLike } from '../protocol/engine/fetch-chunk.ts';
import type { EngineSession } from '../protocol/engine/session.ts';
import { STAMP_HEADER } from '../protocol/node-protocol.ts';
import { freshManifest, type ContentSource } from '../protocol/serve/content-source.ts';
import { chunkHashOf, localFirstFetch } from './local-first.ts';
import type { OfflineStore } from './offline-store.ts';

export interface SaveDeps {
  store: OfflineStore;
  /** the network's manifests and key (a save needs the portal) */
  source: ContentSource;
  fetch: FetchLike;
  crypto: CryptoLike;
  now: () => number;
  /** the engine session: node history, the user's node settings, reports */
  engine: Pick<EngineSession, 'prepare'>;
  onProgress: (p: { id: string; savedChunks: number; chunks: number; done: boolean }) => void;
  /** the viewer's grant, for a private content */
  grant?: string;
}

export async function saveOffline(id: string, d: SaveDeps): Promise<void> {
  const [manifest, publicKey] = await Promise.all([d.source.manifest(id, d.grant), d.source.publicKey()]);
  await d.store.begin(manifest);
  await d.store.putPortalKey(publicKey);
  const captured = new Map<string, { stamp: string; sealed: Uint8Array }>();
  const network: FetchLike = async (url, init) => {
    const res = await d.fetch(url, init);
    const hash = chunkHashOf(url);
    if (!hash || res.status !== 200) return res;
    const sealed = new Uint8Array(await res.arrayBuffer());
    captured.set(hash, { stamp: res.headers.get(STAMP_HEADER) ?? '', sealed });
    return new Response(sealed as BodyInit, { status: 200, headers: res.headers });
  };
  const writes: Promise<void>[] = [];
  let saved = (await d.store.list()).find((i) => i.id === id)?.savedChunks ?? 0;
  const progress = (done: boolean) => d.onProgress({ id, savedChunks: saved, chunks: manifest.chunks.length, done });
  progress(false);
  const run = await d.engine.prepare({
    manifest, publicKey, crypto: d.crypto, fetch: localFirstFetch(d.store, network), now: d.now,
    refresh: () => freshManifest(d.source, id, d.grant),
    onEvent: (e) => {
      if (e.type !== 'chunk-done') return;
      const hash = manifest.chunks[e.index].hash;
      const got = captured.get(hash);
      if (!got) return; // it came from the store
      captured.delete(hash);
      writes.push(d.store.putChunk(id, hash, got.stamp, got.sealed).then(() => { saved++; progress(false); }));
    },
  });
  for await (const _ of downloadContent(run.options)) {
    // the plaintext is not kept: the store holds ciphertext only
  }
  await Promise.all(writes);
  saved = manifest.chunks.length;
  progress(true);
}
