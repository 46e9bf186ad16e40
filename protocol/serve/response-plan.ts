// What to answer a request for a content URL, decided on plain values (method, Range, If-Range)
// before any byte is fetched: 200 with the whole content, 206 with one range, or 416. A Range
// header we do not serve (several ranges, bad syntax) is ignored, as RFC 9110 allows, and the
// whole content is sent.
import { BunsanError } from '../errors.ts';
import type { Manifest } from '../manifest.ts';
import { parseRange, type ByteRange } from '../range.ts';
import { CONTENT_ANSWER_HEADERS, contentDisposition, servedAs, type ServedAs } from './serve-policy.ts';

export interface ContentRequest {
  method: string;
  range?: string | null;
  ifRange?: string | null;
  /**
   * Most bytes to send for an open-ended range ("bytes=N-"). A media element reads such an
   * answer as far as it wants and asks again for more, so a shorter 206 is valid for it, and it
   * bounds what the browser buffers (Chromium drains a service worker's stream whether or not
   * the page reads it).
   */
  openEndedLimit?: number;
}

export interface ResponsePlan {
  status: 200 | 206 | 416;
  headers: Record<string, string>;
  /** bytes to send; null for no body (HEAD, 416, empty content) */
  range: ByteRange | null;
  /** what the bytes are served as (serve-policy.ts) */
  served: ServedAs;
}

/** Content and version identify the bytes exactly: a new version is a new tag. */
export const contentEtag = (m: Pick<Manifest, 'id' | 'version'>) => `"${m.id}.${m.version}"`;

export function planResponse(m: Manifest, req: ContentRequest): ResponsePlan {
  // The type and disposition are decided now, from the declared type and name (serve-policy.ts).
  const as = servedAs(m.type, m.name);
  const headers: Record<string, string> = {
    ...CONTENT_ANSWER_HEADERS,
    'content-type': as.contentType,
    'accept-ranges': 'bytes',
    etag: contentEtag(m),
    'content-disposition': contentDisposition(as.disposition, m.name),
    // Decrypted bytes must not land in a shared cache; the window of chunks is the cache.
    'cache-control': 'private, no-store',
  };
  const head = req.method === 'HEAD';
  let range: ByteRange | null = null;
  const honourRange = !req.ifRange || req.ifRange === headers.etag;
  if (req.range && honourRange) {
    try {
      range = parseRange(req.range, m.size);
    } catch (err) {
      if (err instanceof BunsanError && err.code === 'range_not_satisfiable') {
        return { status: 416, headers: { ...headers, 'content-range': `bytes */${m.size}`, 'content-length': '0' }, range: null, served: as };
      }
      range = null; // malformed or several ranges: send it all
    }
  }
  if (range && req.openEndedLimit && /^bytes=\d+-$/i.test(req.range!.trim())) {
    range = { start: range.start, end: Math.min(range.end, range.start + req.openEndedLimit - 1) };
  }
  if (range) {
    headers['content-range'] = `bytes ${range.start}-${range.end}/${m.size}`;
    headers['content-length'] = String(range.end - range.start + 1);
    return { status: 206, headers, range: head ? null : range, served: as };
  }
  headers['content-length'] = String(m.size);
  return { status: 200, headers, range: head || m.size === 0 ? null : { start: 0, end: m.size - 1 }, served: as };
}
