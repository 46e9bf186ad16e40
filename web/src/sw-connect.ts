// Gets the page under its service worker's control before any media element exists (a media
// element created earlier would send its requests past the proxy). Resolves false when there
// is no service worker to wait for: unsupported, blocked, or a hard reload (the worker is
// active but does not control this page); the page then runs the engine itself. Only the first
// version claims the page by itself; later ones wait for the user (update-prompt.ts).
import { Workbox } from 'workbox-window';
import { offerUpdates } from './update-prompt.ts';

export type ProxyMode = 'service-worker' | 'in-page';

export async function connectServiceWorker(timeoutMs = 5000): Promise<ProxyMode> {
  const sw = navigator.serviceWorker;
  if (!sw || !window.isSecureContext) return 'in-page';
  const controlled = new Promise<void>((resolve) => sw.addEventListener('controllerchange', () => resolve(), { once: true }));
  const wb = new Workbox('/sw.js', { scope: '/' });
  // Before registering: a version already waiting from an earlier visit is announced at once.
  offerUpdates(wb, document);
  let reg: ServiceWorkerRegistration | undefined;
  try {
    reg = await wb.register({ immediate: true });
  } catch (err) {
    console.warn('service worker registration failed; playing in the page', err);
    return 'in-page';
  }
  if (sw.controller) return 'service-worker';
  // Active but not controlling and nothing new coming: a hard reload, which no claim follows.
  if (reg?.active && !reg.installing && !reg.waiting) return 'in-page';
  const timedOut = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), timeoutMs));
  const won = await Promise.race([controlled, timedOut]);
  return won === 'timeout' && !sw.controller ? 'in-page' : 'service-worker';
}
