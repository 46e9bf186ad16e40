// The engine's own IndexedDB, shared by the service worker, the in-page engine and the settings
// page (one origin, one portal): node history by node URL, and the user's node settings.
import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import type { NodeHistoryEntry } from '../protocol/engine/node-stats.ts';

export const ENGINE_DB = 'bunsan-engine';

export interface EngineSchema extends DBSchema {
  /** key: the node's URL */
  history: { key: string; value: NodeHistoryEntry };
  /** key: the setting's name ('nodes': the preferred and excluded node ids) */
  settings: { key: string; value: unknown };
}

let db: Promise<IDBPDatabase<EngineSchema>> | null = null;

export function engineDb(): Promise<IDBPDatabase<EngineSchema>> {
  db ??= openDB<EngineSchema>(ENGINE_DB, 1, {
    upgrade(d) {
      d.createObjectStore('history');
      d.createObjectStore('settings');
    },
  });
  // A failed open (storage blocked, private mode) is tried again next time, not remembered.
  db.catch(() => { db = null; });
  return db;
}
