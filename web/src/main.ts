// The app shell: gets the service worker in control first (media elements must not exist
// before it), then routes by hash: #/ is the library, #/play/{id} the player, #/upload the
// uploader, #/settings the node settings.
import { parseContentPath, playerHash } from '../../protocol/serve/content-path.ts';
import { renderLibrary } from './library.ts';
import { renderPlayer } from './player/page.ts';
import { renderSettings } from './settings.ts';
import { renderUpload } from './upload/page.ts';
import { installRemoteKeys } from './remote-keys.ts';
import { connectServiceWorker, type ProxyMode } from './sw-connect.ts';

const app = document.getElementById('app')!;
const proxyState = document.getElementById('proxy-state')!;
let current = new AbortController();

async function route(mode: ProxyMode): Promise<void> {
  current.abort();
  current = new AbortController();
  const m = /^#\/play\/([0-9a-f]{32})(?:\?(.*))?$/.exec(location.hash);
  try {
    if (m) await renderPlayer(app, m[1], mode, current.signal, playerOptions(new URLSearchParams(m[2] ?? '')));
    else if (location.hash === '#/upload') renderUpload(app, current.signal);
    else if (location.hash === '#/settings') await renderSettings(app, current.signal);
    else await renderLibrary(app);
  } catch (err) {
    app.replaceChildren(Object.assign(document.createElement('p'), { className: 'error', textContent: (err as Error).message }));
  }
  app.focus();
}

/**
 * #/play/{id}?ahead=S caps how far ahead the player reads (seconds), e.g. for a slow device;
 * &grant=G is the viewer's grant for a private content.
 */
function playerOptions(q: URLSearchParams): { maxAhead?: number; grant?: string } {
  const ahead = Number(q.get('ahead'));
  return { ...(ahead > 0 ? { maxAhead: ahead } : {}), ...(q.get('grant') ? { grant: q.get('grant')! } : {}) };
}

installRemoteKeys(document);
const mode = await connectServiceWorker();
proxyState.textContent = mode === 'service-worker' ? 'proxy: service worker' : 'proxy: in this page';
document.documentElement.dataset.proxy = mode;
// A content URL opened before the service worker ran got this page instead (the portal never
// decrypts, and never serves a content's bytes): now that the worker controls the page, load
// the URL again and it answers. Without the worker, the player (with the link's grant).
const direct = parseContentPath(location.pathname);
if (direct && mode === 'service-worker') location.reload();
else if (direct) location.replace('/' + playerHash(direct.id, new URLSearchParams(location.search).get('grant') ?? undefined));
else {
  addEventListener('hashchange', () => void route(mode));
  await route(mode);
}
