// What a content's bytes are served as on the app's origin: the type and disposition decided
// from the declared type and name, the file name in Content-Disposition, the headers every
// answer carries, and the clean type an uploader declares.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { declaredType, extensionOf, mimeEssence } from '../../protocol/serve/media-type.ts';
import { planResponse } from '../../protocol/serve/response-plan.ts';
import { CONTENT_ANSWER_HEADERS, CONTENT_SECURITY_POLICY, contentDisposition, servedAs } from '../../protocol/serve/serve-policy.ts';
import { createContent, makeSigner } from './fixtures.ts';

const ATTACHMENT = { contentType: 'application/octet-stream', disposition: 'attachment', media: false };
const INLINE_TYPES = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp', 'image/avif', 'image/bmp', 'image/x-icon', 'image/vnd.microsoft.icon', 'image/apng', 'text/plain; charset=utf-8']);

describe('servedAs', () => {
  it('shows video, audio, raster images and plain text inline, with a type of its own making', () => {
    expect(servedAs('video/webm', 'a.webm')).toEqual({ contentType: 'video/webm', disposition: 'inline', media: true });
    expect(servedAs('Video/MP4; codecs="avc1.42E01E"', 'a.mp4')).toEqual({ contentType: 'video/mp4', disposition: 'inline', media: true });
    expect(servedAs('audio/ogg', 'a.ogg')).toEqual({ contentType: 'audio/ogg', disposition: 'inline', media: true });
    expect(servedAs('image/png', 'a.png')).toEqual({ contentType: 'image/png', disposition: 'inline', media: false });
    expect(servedAs('IMAGE/JPEG', 'photo')).toEqual({ contentType: 'image/jpeg', disposition: 'inline', media: false });
    expect(servedAs('text/plain', 'notes.txt')).toEqual({ contentType: 'text/plain; charset=utf-8', disposition: 'inline', media: false });
    // the uploader's charset never survives: UTF-7 once read as markup
    expect(servedAs('text/plain; charset=utf-7', 'notes.txt').contentType).toBe('text/plain; charset=utf-8');
  });

  it('serves every document type, and anything unknown or malformed, as an octet-stream attachment', () => {
    for (const t of [
      'text/html', 'TEXT/HTML; charset=utf-8', 'application/xhtml+xml', 'image/svg+xml', 'text/xml', 'application/xml',
      'text/xsl', 'application/rss+xml', 'text/javascript', 'application/javascript', 'application/ecmascript', 'text/css',
      'application/pdf', 'application/json', 'multipart/x-mixed-replace; boundary=x', 'text/vtt', 'text/markdown',
      // a media or image type that is XML underneath, or not one type at all
      'video/x+xml', 'audio/mpeg+xml', 'image/svg', 'image/tiff', 'video/', '/webm', 'video/webm/x', 'video webm', 'text/plain, text/html',
      '', ' ', 'html', 'application/octet-stream', 'application/x-shockwave-flash',
    ]) {
      expect(servedAs(t, 'file'), t).toEqual(ATTACHMENT);
    }
  });

  it('never shows inline a file whose name says it is a document, whatever type it declares', () => {
    for (const name of ['page.html', 'PAGE.HTM', 'x.xhtml', 'logo.svg', 'feed.xml', 'app.js', 'doc.pdf', 'a.webm.html']) {
      expect(servedAs('video/webm', name), name).toEqual(ATTACHMENT);
      expect(servedAs('image/png', name), name).toEqual(ATTACHMENT);
      expect(servedAs('text/plain', name), name).toEqual(ATTACHMENT);
    }
    expect(servedAs('video/webm', 'html').disposition).toBe('inline'); // no extension: only the type counts
  });

  it('answers any declared type with an allowlisted inline type or an octet-stream attachment', () => {
    fc.assert(fc.property(fc.oneof(fc.string({ maxLength: 60 }), fc.constantFrom('video/webm', 'image/png', 'text/plain', 'audio/x+xml')), fc.string({ maxLength: 40 }), (type, name) => {
      const s = servedAs(type, name);
      if (s.disposition === 'attachment') return s.contentType === 'application/octet-stream' && !s.media;
      const essence = s.contentType.split(';')[0];
      return (s.media ? /^(video|audio)\/[a-z0-9][a-z0-9.-]*$/.test(essence) && !s.contentType.includes(';') : INLINE_TYPES.has(s.contentType))
        && !/(html|xml|svg|script)/.test(s.contentType);
    }), { numRuns: 2000 });
  });
});

describe('contentDisposition', () => {
  it('carries the name in filename* (RFC 5987) and an ASCII stand-in in filename', () => {
    expect(contentDisposition('attachment', 'page.html')).toBe(`attachment; filename="page.html"; filename*=UTF-8''page.html`);
    expect(contentDisposition('inline', 'été 2024 (1).txt')).toBe(`inline; filename="_t_ 2024 (1).txt"; filename*=UTF-8''%C3%A9t%C3%A9%202024%20%281%29.txt`);
    expect(contentDisposition('attachment', `a"b;c%d\\e/f'g*.bin`)).toBe(`attachment; filename="a_b_c_d_e_f'g*.bin"; filename*=UTF-8''a%22b%3Bc%25d_e_f%27g%2A.bin`);
    expect(contentDisposition('attachment', 'x\r\nSet-Cookie: a=b')).toBe(`attachment; filename="x__Set-Cookie: a=b"; filename*=UTF-8''x__Set-Cookie%3A%20a%3Db`);
    expect(contentDisposition('attachment', 'half\ud800.txt')).toBe(`attachment; filename="half_.txt"; filename*=UTF-8''half%EF%BF%BD.txt`);
    expect(contentDisposition('attachment', ' ')).toBe(`attachment; filename="download"; filename*=UTF-8''download`);
  });

  it('is always one header value whose filename* is only attr-chars and %-escapes', () => {
    fc.assert(fc.property(fc.oneof(fc.string({ maxLength: 80, unit: 'binary' }), fc.string({ maxLength: 20, unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)) })), (name) => {
      const v = contentDisposition('attachment', name);
      const star = /; filename\*=UTF-8''(.*)$/.exec(v)![1];
      return /^[\x20-\x7e]+$/.test(v) && /^[A-Za-z0-9!#$&+\-.^_`|~%]*$/.test(star) && /^attachment; filename="[^"\\]*"; filename\*=/.test(v);
    }), { numRuns: 1000 });
  });
});

const fx = await createContent({ size: 300, signer: await makeSigner() });

describe('content answers', () => {
  it('carry the sandbox and the other headers on 200, 206, 416 and HEAD, with the decided type', () => {
    const m = { ...fx.manifest, type: 'text/html', name: 'page.html' };
    for (const req of [{ method: 'GET' }, { method: 'GET', range: 'bytes=0-9' }, { method: 'GET', range: 'bytes=999-' }, { method: 'HEAD' }]) {
      const plan = planResponse(m, req);
      expect(plan.headers, JSON.stringify(req)).toMatchObject({
        ...CONTENT_ANSWER_HEADERS, 'content-type': 'application/octet-stream',
        'content-disposition': `attachment; filename="page.html"; filename*=UTF-8''page.html`,
      });
    }
    expect(planResponse({ ...fx.manifest, type: 'video/webm', name: 'v.webm' }, { method: 'GET' })).toMatchObject({
      headers: { 'content-type': 'video/webm', 'content-disposition': `inline; filename="v.webm"; filename*=UTF-8''v.webm` },
      served: { media: true },
    });
  });

  it('forbid scripts, our origin, every load but the media itself, and framing', () => {
    const d = CONTENT_SECURITY_POLICY.split('; ');
    expect(d[0]).toBe('sandbox'); // no allow-scripts, no allow-same-origin
    expect(d).toContain("default-src 'none'");
    expect(d).toContain("frame-ancestors 'none'");
    expect(CONTENT_SECURITY_POLICY).not.toMatch(/allow-|script-src|'unsafe-eval'/);
    expect(CONTENT_ANSWER_HEADERS).toMatchObject({
      'x-content-type-options': 'nosniff', 'cross-origin-resource-policy': 'same-origin', 'referrer-policy': 'no-referrer', 'x-frame-options': 'DENY',
    });
  });
});

describe('declared types', () => {
  it('are the bare essence, or the extension\'s type, or octet-stream', () => {
    expect(mimeEssence(' Text/HTML ; charset=utf-8')).toBe('text/html');
    expect(mimeEssence('nonsense')).toBeNull();
    expect(mimeEssence('a/b/c')).toBeNull();
    expect(mimeEssence('video/we bm')).toBeNull();
    expect(extensionOf('dir/a.TAR.GZ')).toBe('gz');
    expect(extensionOf('.bashrc')).toBe('');
    expect(declaredType('video/webm;codecs=vp9', 'x.bin')).toBe('video/webm');
    expect(declaredType('', 'clip.WEBM')).toBe('video/webm');
    expect(declaredType('garbage', 'README')).toBe('application/octet-stream');
    expect(declaredType('text/html', 'page.html')).toBe('text/html'); // a label only: serving decides
  });
});
