// Security headers on every portal response: the API's JSON and, later, the PWA's pages and its
// service worker. The policy is strict (only our own origin for scripts, styles and frames; no
// plugins; not framable) but leaves what the PWA needs: its service worker and workers from our
// origin or blob:, WebCrypto (no CSP switch), MediaSource playback from blob: URLs, and fetches
// to distribution nodes, which live on other origins (any http: or https: address).
import type { MiddlewareHandler } from 'hono';

export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "media-src 'self' blob:",
  "font-src 'self'",
  "connect-src 'self' http: https:",
  "worker-src 'self' blob:",
  "manifest-src 'self'",
  "object-src 'none'",
  "frame-src 'none'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
].join('; ');

export const PERMISSIONS_POLICY = [
  'accelerometer=()', 'camera=()', 'geolocation=()', 'gyroscope=()', 'magnetometer=()', 'microphone=()',
  'payment=()', 'usb=()', 'interest-cohort=()', 'fullscreen=(self)', 'picture-in-picture=(self)',
].join(', ');

export const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'permissions-policy': PERMISSIONS_POLICY,
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
};

export const HSTS = 'max-age=63072000; includeSubDomains';

/** Sets each header unless the route set its own (a page may tighten its policy further). */
export const securityHeaders: MiddlewareHandler = async (c, next) => {
  await next();
  const https = new URL(c.req.url).protocol === 'https:';
  const apply = (h: Headers) => {
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) if (!h.has(k)) h.set(k, v);
    // HSTS only means something over TLS; on plain http it is ignored, so it is not sent.
    if (https && !h.has('strict-transport-security')) h.set('strict-transport-security', HSTS);
  };
  try {
    apply(c.res.headers);
  } catch {
    // A response with immutable headers (one passed through from fetch) is copied once.
    c.res = new Response(c.res.body, c.res);
    apply(c.res.headers);
  }
};

/**
 * The PWA's static assets are served by the platform without running the portal Worker, so
 * they get the same headers from the assets layer: a `_headers` file in the assets folder for
 * the deployment, and Miniflare's `assetConfig.headers` for the local stack.
 */
export function headersFile(): string {
  const all = { ...SECURITY_HEADERS, 'strict-transport-security': HSTS };
  return ['/*', ...Object.entries(all).map(([k, v]) => `  ${k}: ${v}`)].join('\n') + '\n';
}

export const assetHeaderRules = () => ({ version: 2 as const, rules: { '/*': { set: { ...SECURITY_HEADERS } } } });
