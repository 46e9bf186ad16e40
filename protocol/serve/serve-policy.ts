// How a content's decrypted bytes are answered on the app's origin (docs/security.md, "Serving
// uploaded content"). Those bytes are whatever a provider uploaded, so they must never become
// active content there: a page or an SVG that ran script on our origin would reach the viewer's
// offline store, device key and grants. The type is decided here, when serving, from the
// manifest's declared type and name, never taken as it was declared:
// - inline only for what the browser shows as media, a raster image or plain text, each with
//   a type we write ourselves (no parameter of the uploader's survives);
// - everything else is application/octet-stream as an attachment: a download, never a document.
// Every answer, errors included, also carries CONTENT_ANSWER_HEADERS: no sniffing, and a
// sandbox without scripts and without our origin should anything be shown as a document anyway.
import { visibleText } from '../text.ts';
import { extensionOf, mimeEssence } from './media-type.ts';

export interface ServedAs {
  /** the Content-Type the answer carries */
  contentType: string;
  disposition: 'inline' | 'attachment';
  /** video or audio: a media element plays it, and a page that opens it is sent to the app's player */
  media: boolean;
}

/** Raster images Chromium, Firefox and Safari show as an image document. Never SVG: it is a document that runs script. */
const RASTER_IMAGES = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp', 'image/avif', 'image/bmp', 'image/x-icon', 'image/vnd.microsoft.icon', 'image/apng']);

/** A media subtype that is one plain token: no `+xml` (browsers parse any `*\/*+xml` as an XML document) or other suffix. */
const PLAIN_SUBTYPE = /^[a-z0-9][a-z0-9.-]*$/;

/**
 * Names that say "document": such a file is never shown inline whatever its declared type, so
 * that a copy the viewer saves from an inline view is never an active file with our blessing.
 */
const DOCUMENT_EXTENSIONS = new Set([
  'htm', 'html', 'shtml', 'xht', 'xhtml', 'mht', 'mhtml', 'hta', 'svg', 'svgz', 'xml', 'xsl', 'xslt', 'rss', 'atom',
  'js', 'mjs', 'cjs', 'css', 'swf', 'pdf', 'wasm',
]);

const ATTACHMENT: ServedAs = { contentType: 'application/octet-stream', disposition: 'attachment', media: false };

export function servedAs(declaredType: string, name: string): ServedAs {
  const essence = mimeEssence(declaredType);
  if (!essence || DOCUMENT_EXTENSIONS.has(extensionOf(name))) return ATTACHMENT;
  const [top, sub] = essence.split('/');
  if ((top === 'video' || top === 'audio') && PLAIN_SUBTYPE.test(sub)) return { contentType: essence, disposition: 'inline', media: true };
  if (RASTER_IMAGES.has(essence)) return { contentType: essence, disposition: 'inline', media: false };
  // Our own charset: the uploader's could be one that reads as markup (UTF-7) or confuses a sniffer.
  if (essence === 'text/plain') return { contentType: 'text/plain; charset=utf-8', disposition: 'inline', media: false };
  // PDF included: Chromium renders no PDF in a sandboxed document, so inline it would only fail.
  return ATTACHMENT;
}

/** RFC 5987 attr-char: what may stand unescaped in filename*. */
const rfc5987 = (s: string) => encodeURIComponent(s).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/**
 * `inline` or `attachment` with the uploader's name (RFC 6266): `filename*` carries it in
 * UTF-8, and a plain `filename` an ASCII stand-in for clients that read only that one. Hidden
 * characters and path separators never reach either.
 */
export function contentDisposition(disposition: ServedAs['disposition'], name: string): string {
  // Anything that would hide or reorder the name (protocol/text.ts: controls, bidi and other
  // format characters), stored before names were checked, becomes `_`; half a surrogate pair,
  // which UTF-8 cannot carry, the replacement character.
  const clean = visibleText(name, (cp) => (cp >= 0xd800 && cp <= 0xdfff ? '\ufffd' : '_')).replace(/[/\\]/g, '_').trim() || 'download';
  const ascii = clean.replace(/[^\x20-\x7e]|["%;\\]/g, '_');
  return `${disposition}; filename="${ascii}"; filename*=UTF-8''${rfc5987(clean)}`;
}

/**
 * The policy of every content answer. `sandbox` without allow-scripts and allow-same-origin: if
 * a browser shows the bytes as a document it runs no script and has an origin of its own, not
 * ours. `default-src 'none'`: the document loads nothing, except that image and text documents
 * style themselves inline and a media document fetches its own URL (`media-src 'self'`; the
 * service worker sends pages that open media to the player instead, but a browser that builds
 * one anyway may play it). Not framable: the app never frames a content, and nobody else should.
 */
export const CONTENT_SECURITY_POLICY = [
  'sandbox',
  "default-src 'none'",
  "media-src 'self'",
  "style-src 'unsafe-inline'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

/** The powers a content document is refused (the portal's list, less what only the app's pages need). */
export const CONTENT_PERMISSIONS_POLICY = [
  'accelerometer=()', 'camera=()', 'geolocation=()', 'gyroscope=()', 'magnetometer=()', 'microphone=()', 'payment=()', 'usb=()',
].join(', ');

/** On every answer for a content URL: 200, 206, 416, HEAD and errors alike. */
export const CONTENT_ANSWER_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'cross-origin-resource-policy': 'same-origin',
  'cross-origin-opener-policy': 'same-origin',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'permissions-policy': CONTENT_PERMISSIONS_POLICY,
};
