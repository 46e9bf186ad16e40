// Saved contents, in IndexedDB: each chunk exactly as a node sent it (sealed ciphertext, keyed
// by its hash, with the node's stamp digest), and the manifest encrypted under a device key.
// The device key is a non-extractable AES-GCM CryptoKey stored as a key object: script can use
// it but never read its bytes, so neither the content key nor any plaintext is on disk in the clear.
// Beside the name and size, an item keeps the media's seek index and the chunking in the clear:
// the player reads them from the list to seek and draw its map offline, and they hold no key
// and no content bytes (the chunk lengths show in the stored ciphertext anyway).
import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import type { Manifest } from '../protocol/manifest.ts';
import type { SavedSummary } from '../protocol/serve/offline-messages.ts';

export type SavedItem = SavedSummary;

interface Schema extends DBSchema {
  items: { key: string; value: SavedItem & { sealedManifest: { iv: Uint8Array; data: ArrayBuffer } } };
  chunks: { key: string; value: { hash: string; content: string; stamp: string; sealed: Uint8Array }; indexes: { content: string } };
  /** 'device' wraps manifests; 'portal' is the portal's public key, to verify stamps offline */
  keys: { key: string; value: CryptoKey };
}

export class OfflineStore {
  private db: Promise<IDBPDatabase<Schema>> | null = null;

  private open(): Promise<IDBPDatabase<Schema>> {
    this.db ??= openDB<Schema>('bunsan-offline', 1, {
      upgrade(db) {
        db.createObjectStore('items', { keyPath: 'id' });
        db.createObjectStore('chunks', { keyPath: 'hash' }).createIndex('content', 'content');
        db.createObjectStore('keys');
      },
    });
    return this.db;
  }

  private async deviceKey(): Promise<CryptoKey> {
    const db = await this.open();
    const have = await db.get('keys', 'device');
    if (have) return have;
    const key = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);
    await db.put('keys', key, 'device');
    return key;
  }

  async begin(m: Manifest): Promise<void> {
    const iv = crypto.getRandomValues(new Uint8Array(12));
    const data = await crypto.subtle.encrypt({ name: 'AES-GCM', iv }, await this.deviceKey(), new TextEncoder().encode(JSON.stringify(m)));
    const db = await this.open();
    const old = await db.get('items', m.id);
    await db.put('items', {
      id: m.id, name: m.name, type: m.type, size: m.size, chunks: m.chunks.length, bytes: old?.bytes ?? 0,
      savedChunks: old?.savedChunks ?? 0, complete: false, savedAt: Date.now(), sealedManifest: { iv, data },
      chunking: m.chunking, ...(m.media ? { media: m.media } : {}),
    });
  }

  async putChunk(content: string, hash: string, stamp: string, sealed: Uint8Array): Promise<void> {
    const db = await this.open();
    const tx = db.transaction(['chunks', 'items'], 'readwrite');
    const item = await tx.objectStore('items').get(content);
    if (item && !(await tx.objectStore('chunks').getKey(hash))) {
      item.savedChunks++;
      item.bytes += sealed.length;
      item.complete = item.savedChunks >= item.chunks;
      await tx.objectStore('items').put(item);
    }
    await tx.objectStore('chunks').put({ hash, content, stamp, sealed });
    await tx.done;
  }

  async chunk(hash: string): Promise<{ stamp: string; sealed: Uint8Array } | undefined> {
    return (await this.open()).get('chunks', hash);
  }

  async manifest(id: string): Promise<Manifest | null> {
    const item = await (await this.open()).get('items', id);
    if (!item) return null;
    const plain = await crypto.subtle.decrypt({ name: 'AES-GCM', iv: item.sealedManifest.iv as BufferSource }, await this.deviceKey(), item.sealedManifest.data);
    return JSON.parse(new TextDecoder().decode(plain)) as Manifest;
  }

  async putPortalKey(key: CryptoKey): Promise<void> {
    await (await this.open()).put('keys', key, 'portal');
  }

  async portalKey(): Promise<CryptoKey | undefined> {
    return (await this.open()).get('keys', 'portal');
  }

  /** One saved item by its id (the items store's key), without reading the others. */
  async item(id: string): Promise<SavedItem | undefined> {
    const found = await (await this.open()).get('items', id);
    if (!found) return undefined;
    const { sealedManifest: _m, ...rest } = found;
    return rest;
  }

  async list(): Promise<SavedItem[]> {
    const items = await (await this.open()).getAll('items');
    return items.map(({ sealedManifest: _m, ...rest }) => rest);
  }

  async remove(id: string): Promise<void> {
    const db = await this.open();
    const tx = db.transaction(['chunks', 'items'], 'readwrite');
    for await (const cursor of tx.objectStore('chunks').index('content').iterate(id)) await cursor.delete();
    await tx.objectStore('items').delete(id);
    await tx.done;
  }
}
