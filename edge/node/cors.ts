// CORS for every node response. Browsers (the PWA, <video src>) fetch chunks straight from
// nodes on other origins, and they must be able to read our error envelopes and the
// stamp/content headers too, so the headers go on errors and preflights alike.
import type { MiddlewareHandler } from 'hono';
import { CONTENT_HEADER, STAMP_HEADER } from '../../protocol/node-protocol.ts';

export const CORS_HEADERS: Record<string, string> = {
  'access-control-allow-origin': '*',
  'access-control-allow-headers': 'Authorization, Range, Content-Type',
  'access-control-expose-headers': `Content-Length, Content-Range, Accept-Ranges, ETag, ${STAMP_HEADER}, ${CONTENT_HEADER}`,
  'access-control-allow-methods': 'GET, HEAD, PUT, DELETE, POST, OPTIONS',
  'access-control-max-age': '86400',
};

export const cors: MiddlewareHandler = async (c, next) => {
  // Preflights are answered for any path: the browser only wants the policy, and routing them
  // would turn them into 404/405s that fail the real request for the wrong reason.
  if (c.req.method === 'OPTIONS') return new Response(null, { status: 204, headers: CORS_HEADERS });
  await next();
  try {
    for (const [k, v] of Object.entries(CORS_HEADERS)) c.res.headers.set(k, v);
  } catch {
    // A response with immutable headers (e.g. one passed through from fetch) is copied once.
    const res = new Response(c.res.body, c.res);
    for (const [k, v] of Object.entries(CORS_HEADERS)) res.headers.set(k, v);
    c.res = res;
  }
};
