// The service worker's one handler: answers GET/HEAD for /c/{id} and /c/{id}/{name} under its
// scope with a streaming 200/206/416, the plaintext coming from the window of decrypted chunks
// and the shared engine. Everything platform-specific (fetch, crypto, clock, history, settings)
// comes in with the engine session, so the same handler runs under a test's fakes.
import type { EngineEvent } from '../protocol/engine/events.ts';
import type { EngineSession } from '../protocol/engine/session.ts';
import { BunsanError } from '../protocol/errors.ts';
import { parseContentPath, playerHash } from '../protocol/serve/content-path.ts';
import { freshManifest, type ContentSource } from '../protocol/serve/content-source.ts';
import type { PlainWindow } from '../protocol/serve/plain-window.ts';
import { rangeStream } from '../protocol/serve/range-stream.ts';
import { planResponse } from '../protocol/serve/response-plan.ts';
import { CONTENT_ANSWER_HEADERS } from '../protocol/serve/serve-policy.ts';

export interface ContentHandlerDeps {
  /** the registration's scope URL: content URLs are read relative to it */
  scope: string;
  source: ContentSource;
  cache: PlainWindow;
  /** the engine with its node history (kept across requests, so a slow or dead node is remembered) and the user's settings */
  engine: Pick<EngineSession, 'prepare'>;
  onEvent?: (contentId: string, e: EngineEvent) => void;
  /** most bytes answered to a media element's open-ended range (default 16 MiB): see ContentRequest */
  mediaSlice?: number;
}

const MEDIA = new Set(['video', 'audio', 'track']);

export function contentHandler(d: ContentHandlerDeps) {
  const scope = new URL(d.scope);
  const relative = (url: URL) => {
    if (url.origin !== scope.origin || !url.pathname.startsWith(scope.pathname)) return null;
    return parseContentPath('/' + url.pathname.slice(scope.pathname.length));
  };

  return {
    canHandle(req: Request): boolean {
      return (req.method === 'GET' || req.method === 'HEAD') && relative(new URL(req.url)) !== null;
    },

    async handle(req: Request): Promise<Response> {
      const url = new URL(req.url);
      const path = relative(url)!;
      try {
        // A private content's link carries the viewer's grant: /c/{id}?grant=…
        const grant = url.searchParams.get('grant') ?? undefined;
        const [manifest, publicKey] = await Promise.all([d.source.manifest(path.id, grant), d.source.publicKey()]);
        const plan = planResponse(manifest, {
          method: req.method, range: req.headers.get('range'), ifRange: req.headers.get('if-range'),
          openEndedLimit: MEDIA.has(req.destination) ? d.mediaSlice ?? 16 * 1024 * 1024 : undefined,
        });
        // Opening a video or a sound (a link, the address bar) gets the app's player. The
        // browser would show it as a media document under the answer's sandbox, so without our
        // origin, and such a document is no client of this worker: its own request for the
        // media would go past us to the portal and fail.
        if (plan.served.media && req.mode === 'navigate' && req.destination === 'document') {
          return answer(null, 303, { location: new URL(playerHash(path.id, grant), scope).href });
        }
        // The settings are read for every request: a node excluded a moment ago is not asked.
        const run = plan.range && await d.engine.prepare({
          manifest, publicKey, onEvent: d.onEvent && ((e) => d.onEvent!(path.id, e)), refresh: () => freshManifest(d.source, path.id, grant),
        });
        const body = run && rangeStream({ ...run.options, range: plan.range!, cache: d.cache, signal: req.signal });
        return new Response(body, { status: plan.status, headers: plan.headers });
      } catch (err) {
        if (err instanceof BunsanError && (err.code === 'token_invalid' || err.code === 'token_expired')) d.source.forget(path.id);
        return errorResponse(err);
      }
    },
  };
}

/** An answer without content bytes (an error, a redirect) is a content answer too: the same headers as the bytes (serve-policy.ts). */
const answer = (body: string | null, status: number, headers: Record<string, string>) =>
  new Response(body, { status, headers: { ...CONTENT_ANSWER_HEADERS, 'cache-control': 'no-store', ...headers } });

function errorResponse(err: unknown): Response {
  const e = err instanceof BunsanError ? err : new BunsanError('internal', err instanceof Error ? err.message : String(err));
  return answer(JSON.stringify(e.toEnvelope()), e.status, { 'content-type': 'application/json' });
}
