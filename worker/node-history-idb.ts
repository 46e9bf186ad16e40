// The browser's memory of nodes between sessions: the engine session's history store over
// IndexedDB, one record per node URL (as the CLI's node-history.json). Every tab and the service
// worker write it; a save merges entry by entry, so they do not erase each other's nodes.
import { keepRecent, type HistoryStore } from '../protocol/engine/session.ts';
import type { NodeHistoryEntry } from '../protocol/engine/node-stats.ts';
import { engineDb } from './engine-db.ts';

export function idbHistory(): HistoryStore {
  return {
    async load() {
      const db = await engineDb();
      const tx = db.transaction('history');
      const [keys, values] = await Promise.all([tx.store.getAllKeys(), tx.store.getAll()]);
      return Object.fromEntries(keys.map((k, i) => [k, values[i]]));
    },
    async save(entries, now) {
      const db = await engineDb();
      const tx = db.transaction('history', 'readwrite');
      const [keys, values] = await Promise.all([tx.store.getAllKeys(), tx.store.getAll()]);
      const all: Record<string, NodeHistoryEntry> = Object.fromEntries(keys.map((k, i) => [k, values[i]]));
      const kept = keepRecent({ ...all, ...entries }, now);
      await Promise.all([
        ...keys.filter((k) => !(k in kept)).map((k) => tx.store.delete(k)),
        ...Object.entries(entries).filter(([url]) => url in kept).map(([url, e]) => tx.store.put(e, url)),
        tx.done,
      ]);
    },
    async clear() {
      await (await engineDb()).clear('history');
    },
  };
}

/** What is saved, by node URL (for the settings page). */
export async function savedHistory(): Promise<Record<string, NodeHistoryEntry>> {
  return (await idbHistory().load()) as Record<string, NodeHistoryEntry>;
}
