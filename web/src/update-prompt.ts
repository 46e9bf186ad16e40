// A new version of the service worker installs in the background and then waits: it would
// otherwise take over a page in the middle of playback. The page shows a small banner instead,
// and only the user's Reload hands over (workbox sends SKIP_WAITING, the new worker activates)
// and reloads the page, once, when the new worker controls it. The banner comes first in the
// document, so a TV remote reaches it with the up arrow and a keyboard with Tab.
import type { Workbox } from 'workbox-window';
import { el } from './format.ts';

/** How often a long-running page (a TV left on) asks whether there is a new version. */
const CHECK_EVERY_MS = 60 * 60 * 1000;

export function offerUpdates(wb: Workbox, doc: Document, reload = () => location.reload()): void {
  let pending = false; // a new version waits for this page's consent
  let accepted = false;
  let reloading = false;
  const reloadOnce = () => {
    if (reloading) return;
    reloading = true;
    reload();
  };
  const banner = updateBanner(doc, () => {
    // Another page may have accepted already: the new version then runs and a reload is enough.
    if (!pending) return reloadOnce();
    accepted = true;
    wb.messageSkipWaiting();
  });
  wb.addEventListener('waiting', () => {
    pending = true;
    banner.show();
  });
  wb.addEventListener('controlling', () => {
    if (accepted) reloadOnce();
    else pending = false; // the first install, or a version another page accepted
  });
  setInterval(() => void wb.update().catch(() => {}), CHECK_EVERY_MS);
}

function updateBanner(doc: Document, onReload: () => void): { show(): void } {
  let banner: HTMLElement | null = null;
  return {
    show() {
      if (banner?.isConnected) return;
      const reload = el('button', { type: 'button', className: 'update-reload' }, 'Reload');
      const later = el('button', { type: 'button', className: 'update-later' }, 'Later');
      reload.addEventListener('click', onReload);
      // Later only hides it: the next visit offers the waiting version again.
      later.addEventListener('click', () => banner?.remove());
      banner = el('div', { className: 'update-banner' }, el('span', {}, 'A new version of bunsan is ready'), reload, later);
      banner.setAttribute('role', 'status');
      doc.body.insertBefore(banner, doc.body.firstChild);
    },
  };
}
