// The app shell offline: on install the worker caches every file the build lists in
// /shell.json; pages and assets are then fetched network-first and answered from that cache
// when the network (or the whole stack) is down, so a saved item plays with nothing running.
const CACHE = 'bunsan-shell';

export async function cacheShell(): Promise<void> {
  const res = await fetch('/shell.json', { cache: 'no-store' });
  if (!res.ok) return; // a dev server without a build: nothing to cache
  const files = (await res.json()) as string[];
  const cache = await caches.open(CACHE);
  await cache.addAll(files);
  // Hashed assets of older builds are not wanted any more.
  const keep = new Set(files.map((f) => new URL(f, location.origin).href));
  for (const req of await cache.keys()) if (!keep.has(req.url)) await cache.delete(req);
}

export function shellHandler(origin: string) {
  return {
    canHandle(req: Request): boolean {
      const url = new URL(req.url);
      return req.method === 'GET' && url.origin === origin && !url.pathname.startsWith('/api/') && !url.pathname.startsWith('/c/');
    },
    async handle(req: Request): Promise<Response> {
      try {
        return await fetch(req);
      } catch (err) {
        const cache = await caches.open(CACHE);
        // A navigation to any route of the app is the shell's page.
        const hit = await cache.match(req, { ignoreSearch: true }) ?? (req.mode === 'navigate' ? await cache.match('/') : undefined);
        if (hit) return hit;
        throw err;
      }
    },
  };
}
