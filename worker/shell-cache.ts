// The app shell offline: on install the worker caches every file the build lists in
// /shell.json; pages and assets are then fetched network-first and answered from that cache
// when the network (or the whole stack) is down, so a saved item plays with nothing running.
// Each build caches under a name of its own (the build writes its version into sw.js, which
// also makes any change to the shell a new service worker): a new version waiting for the
// user's reload fills its cache without touching the one the running version answers from, and
// only on activation are older shells dropped.
declare const BUNSAN_SHELL_VERSION: string | undefined;

const PREFIX = 'bunsan-shell';
export const SHELL_CACHE = `${PREFIX}-${typeof BUNSAN_SHELL_VERSION === 'string' ? BUNSAN_SHELL_VERSION : 'dev'}`;

export async function cacheShell(): Promise<void> {
  const res = await fetch('/shell.json', { cache: 'no-store' });
  if (!res.ok) return; // a dev server without a build: nothing to cache
  const files = (await res.json()) as string[];
  const cache = await caches.open(SHELL_CACHE);
  // Past the HTTP cache: what is stored must be this build's files, not older copies.
  await cache.addAll(files.map((f) => new Request(f, { cache: 'no-cache' })));
}

/** On activation: the shells of earlier versions (and the unversioned one before them). */
export async function dropOldShells(): Promise<void> {
  for (const name of await caches.keys()) if (name.startsWith(PREFIX) && name !== SHELL_CACHE) await caches.delete(name);
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
        const cache = await caches.open(SHELL_CACHE);
        // A navigation to any route of the app is the shell's page.
        const hit = await cache.match(req, { ignoreSearch: true }) ?? (req.mode === 'navigate' ? await cache.match('/') : undefined);
        if (hit) return hit;
        throw err;
      }
    },
  };
}
