// A distribution node's chunk store: upload, read with ranges, integrity and size limits.
import { describe, expect, it } from 'vitest';
import { MAX_CHUNK_BODY } from '../../edge/node/chunks.ts';
import {
  auth, call, errorCode, getTokenFor, makeChunk, newContent, peek, putTokenFor, stored, upload,
} from './helpers.ts';

const bytes = async (res: Response) => new Uint8Array(await res.arrayBuffer());

describe('PUT then GET', () => {
  it('round-trips the bytes with the stamp and content headers', async () => {
    const ch = await makeChunk(10_000);
    const put = await upload(ch);
    expect(put.status).toBe(201);
    expect(await put.json()).toEqual({ stored: true, hash: ch.hash, size: 10_000 });
    expect(await peek(ch.hash)).toEqual({ content: ch.content, stamp: ch.stamp, version: '1' });

    const res = await call(`/v1/chunks/${ch.hash}`, { headers: auth(await getTokenFor(ch.content)) });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/octet-stream');
    expect(res.headers.get('accept-ranges')).toBe('bytes');
    expect(res.headers.get('cache-control')).toBe('private, max-age=31536000, immutable');
    expect(res.headers.get('etag')).toBe(`"${ch.hash}"`);
    expect(res.headers.get('bunsan-stamp')).toBe(ch.stamp);
    expect(res.headers.get('bunsan-content')).toBe(ch.content);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(await bytes(res)).toEqual(ch.data);
  });

  it('accepts the download token as ?t= for links that cannot set headers', async () => {
    const ch = await stored(await makeChunk());
    const res = await call(`/v1/chunks/${ch.hash}?t=${await getTokenFor(ch.content)}`);
    expect(res.status).toBe(200);
    expect(await bytes(res)).toEqual(ch.data);
  });

  it('answers HEAD with the headers and no body', async () => {
    const ch = await stored(await makeChunk(777));
    const res = await call(`/v1/chunks/${ch.hash}`, { method: 'HEAD', headers: auth(await getTokenFor(ch.content)) });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-length')).toBe('777');
    expect(res.headers.get('bunsan-stamp')).toBe(ch.stamp);
    expect(res.body).toBeNull();
  });

  it('is idempotent for the same content and refuses another content', async () => {
    const ch = await stored(await makeChunk());
    const again = await upload(ch);
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual({ stored: true, hash: ch.hash, existed: true });
    const other = await upload({ ...ch, content: newContent() });
    expect(other.status).toBe(409);
    expect(await errorCode(other)).toBe('conflict');
    expect((await peek(ch.hash))?.content).toBe(ch.content);
  });

  it('lets exactly one of two racing uploads create the chunk', async () => {
    const ch = await makeChunk();
    const statuses = (await Promise.all([upload(ch), upload(ch)])).map((r) => r.status).sort();
    expect(statuses).toEqual([200, 201]);
  });

  it('stores nothing when the body does not hash to the name', async () => {
    const ch = await makeChunk();
    const liar = { ...ch, data: (await makeChunk()).data };
    const res = await upload(liar, await putTokenFor(ch));
    expect(res.status).toBe(400);
    expect(await errorCode(res)).toBe('hash_mismatch');
    expect(await peek(ch.hash)).toBeNull();
  });

  it('refuses bodies over 16 MiB + 64 with 413 and stores nothing', async () => {
    const ch = await makeChunk(MAX_CHUNK_BODY + 1);
    const res = await upload(ch);
    expect(res.status).toBe(413);
    expect(await errorCode(res)).toBe('payload_too_large');
    expect(await peek(ch.hash)).toBeNull();
  });
});

describe('ranges', () => {
  const setup = async () => {
    const ch = await stored(await makeChunk(1000));
    const token = await getTokenFor(ch.content);
    const get = (range: string) => call(`/v1/chunks/${ch.hash}`, { headers: { ...auth(token), range } });
    return { ch, get };
  };

  it('serves start-end, open-ended and suffix ranges as 206', async () => {
    const { ch, get } = await setup();
    for (const [range, start, end] of [['bytes=10-19', 10, 19], ['bytes=990-', 990, 999], ['bytes=-5', 995, 999],
      ['bytes=900-5000', 900, 999]] as const) {
      const res = await get(range);
      expect(res.status, range).toBe(206);
      expect(res.headers.get('content-range')).toBe(`bytes ${start}-${end}/1000`);
      expect(res.headers.get('content-length')).toBe(String(end - start + 1));
      expect(await bytes(res)).toEqual(ch.data.slice(start, end + 1));
    }
  });

  it('answers 416 with bytes */size past the end', async () => {
    const { get } = await setup();
    const res = await get('bytes=1000-1001');
    expect(res.status).toBe(416);
    expect(res.headers.get('content-range')).toBe('bytes */1000');
    expect(await errorCode(res)).toBe('range_not_satisfiable');
  });

  it('answers 400 to malformed and multi ranges', async () => {
    const { get } = await setup();
    for (const range of ['bytes=abc', 'bytes=5-2', 'items=0-1', 'bytes=0-1,4-5']) {
      const res = await get(range);
      expect(res.status, range).toBe(400);
      expect(await errorCode(res)).toBe('bad_request');
    }
  });
});
