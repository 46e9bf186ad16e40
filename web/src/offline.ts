// Offline copies from the page's side: requests to the service worker by message (it does the
// saving, since it also serves the saved copy), progress from its broadcast, and the browser's
// own storage figures.
import { OFFLINE_CHANNEL, type OfflineAnswer, type OfflineProgress, type OfflineRequest, type SavedSummary } from '../../protocol/serve/offline-messages.ts';

async function ask<T>(req: OfflineRequest): Promise<T> {
  const sw = navigator.serviceWorker?.controller;
  if (!sw) throw new Error('offline copies need the service worker, which does not control this page');
  const { port1, port2 } = new MessageChannel();
  const answer = new Promise<OfflineAnswer>((resolve) => { port1.onmessage = (e) => resolve(e.data as OfflineAnswer); });
  sw.postMessage(req, [port2]);
  const a = await answer;
  port1.close();
  if (!a.ok) throw new Error(a.error);
  return a.value as T;
}

export const saveOffline = (id: string, grant?: string) => ask<null>({ type: 'save', id, ...(grant ? { grant } : {}) });
export const removeOffline = (id: string) => ask<null>({ type: 'remove', id });
/** Saved items with their progress and, for media, the seek index the player seeks with offline. */
export const savedItems = () => ask<SavedSummary[]>({ type: 'list' });

export function onOfflineProgress(cb: (p: OfflineProgress) => void, signal: AbortSignal): void {
  const ch = new BroadcastChannel(OFFLINE_CHANNEL);
  ch.onmessage = (e: MessageEvent<OfflineProgress>) => cb(e.data);
  signal.addEventListener('abort', () => ch.close(), { once: true });
}

/** Bytes this origin stores and may store, as the browser reports them. */
export async function storageEstimate(): Promise<{ usage: number; quota: number } | null> {
  const e = await navigator.storage?.estimate?.();
  return e ? { usage: e.usage ?? 0, quota: e.quota ?? 0 } : null;
}
