// What a page can ask its service worker by message (the page never imports the worker):
// save a content for offline use, remove it, list what is saved. Each request carries a
// MessagePort for the answer; save progress goes to every page on a BroadcastChannel.
import { BunsanError } from '../protocol/errors.ts';
import { OFFLINE_CHANNEL, type OfflineRequest } from '../protocol/serve/offline-messages.ts';
import type { OfflineStore } from './offline-store.ts';
import { saveOffline, type SaveDeps } from './offline-save.ts';

export function messageHandler(store: OfflineStore, deps: Omit<SaveDeps, 'store' | 'onProgress'>) {
  const channel = new BroadcastChannel(OFFLINE_CHANNEL);
  const saving = new Map<string, Promise<void>>();
  const save = (id: string, grant?: string) => {
    let p = saving.get(id);
    if (!p) {
      p = saveOffline(id, { ...deps, store, grant, onProgress: (e) => channel.postMessage(e) })
        .catch((err) => { channel.postMessage({ id, error: (err as Error).message }); throw err; })
        .finally(() => saving.delete(id));
      saving.set(id, p);
    }
    return p;
  };

  return async (req: OfflineRequest): Promise<unknown> => {
    if (req.type === 'save') return save(req.id, req.grant).then(() => null);
    if (req.type === 'remove') return store.remove(req.id).then(() => null);
    if (req.type === 'list') return store.list();
    throw new BunsanError('bad_request', 'unknown request');
  };
}
