// Save for offline, with progress; how much it takes; remove it. The saved copy is sealed
// chunks and a manifest wrapped under a device key, kept by the service worker.
import type { SavedSummary } from '../../../protocol/serve/offline-messages.ts';
import { bytes, el } from '../format.ts';
import { onOfflineProgress, removeOffline, saveOffline, savedItems, storageEstimate } from '../offline.ts';

export function offlinePanel(id: string, signal: AbortSignal, grant?: string): HTMLElement {
  const save = el('button', { type: 'button', className: 'save-offline' }, 'Save for offline');
  const remove = el('button', { type: 'button', className: 'remove-offline' }, 'Remove offline copy');
  const progress = el('progress', { max: 1, value: 0 });
  const status = el('span', { className: 'muted offline-status', ariaLive: 'polite' });
  const root = el('section', { className: 'offline' }, el('h2', {}, 'Offline'), save, ' ', remove, ' ', progress, ' ', status);

  const refresh = async () => {
    const item = (await savedItems().catch(() => [] as SavedSummary[])).find((i) => i.id === id);
    const est = await storageEstimate();
    remove.disabled = !item;
    save.disabled = !!item?.complete;
    if (item) progress.value = item.savedChunks / Math.max(1, item.chunks);
    root.dataset.saved = item?.complete ? 'complete' : item ? 'partial' : 'none';
    status.textContent = (item ? `${item.complete ? 'saved' : 'partly saved'}: ${bytes(item.bytes)} encrypted` : 'not saved')
      + (est ? ` · this site uses ${bytes(est.usage)} of ${bytes(est.quota)}` : '');
  };
  onOfflineProgress((p) => {
    if (p.id !== id) return;
    if ('error' in p) status.textContent = `saving failed: ${p.error}`;
    else {
      progress.value = p.savedChunks / Math.max(1, p.chunks);
      status.textContent = `saving… ${p.savedChunks} of ${p.chunks} chunks`;
      if (p.done) void refresh();
    }
  }, signal);
  save.addEventListener('click', () => {
    save.disabled = true;
    saveOffline(id, grant).catch((err) => { status.textContent = `saving failed: ${(err as Error).message}`; }).finally(refresh);
  }, { signal });
  remove.addEventListener('click', () => { void removeOffline(id).finally(refresh); }, { signal });
  if (navigator.serviceWorker?.controller) void refresh();
  else {
    save.disabled = remove.disabled = true;
    status.textContent = 'offline copies need the service worker (reload the page)';
  }
  return root;
}
