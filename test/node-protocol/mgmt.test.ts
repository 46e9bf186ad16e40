// A distribution node's management endpoints: delete, batch check/delete and inventory.
import { describe, expect, it } from 'vitest';
import {
  auth, call, errorCode, getTokenFor, makeChunk, mgmtToken, newContent, peek, postJson, randomHash, stored,
} from './helpers.ts';

const has = async (hash: string) => (await peek(hash)) !== null;

describe('DELETE /v1/chunks/{hash}', () => {
  it('deletes with a node token, and 404s what is absent', async () => {
    const ch = await stored(await makeChunk());
    const del = () => call(`/v1/chunks/${ch.hash}`, { method: 'DELETE', headers: auth(token) });
    const token = await mgmtToken();
    const res = await del();
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ deleted: [ch.hash] });
    expect(await has(ch.hash)).toBe(false);
    const again = await del();
    expect([again.status, await errorCode(again)]).toEqual([404, 'chunk_not_found']);
  });

  it('refuses a content-scoped token for another content', async () => {
    const ch = await stored(await makeChunk());
    const res = await call(`/v1/chunks/${ch.hash}`, { method: 'DELETE', headers: auth(await mgmtToken(newContent())) });
    expect([res.status, await errorCode(res)]).toEqual([403, 'forbidden']);
    expect(await has(ch.hash)).toBe(true);
    const ok = await call(`/v1/chunks/${ch.hash}`, { method: 'DELETE', headers: auth(await mgmtToken(ch.content)) });
    expect(ok.status).toBe(200);
  });
});

describe('batch check and delete', () => {
  it('checks which hashes are here, scoped to a content when the token is', async () => {
    const a = await stored(await makeChunk(100));
    const b = await stored(await makeChunk(200, a.content));
    const other = await stored(await makeChunk(300));
    const absent = randomHash();
    const hashes = [a.hash, b.hash, other.hash, absent, a.hash];
    const scoped = await postJson('/v1/chunks/check', await mgmtToken(a.content), { hashes });
    expect(scoped.status).toBe(200);
    expect(await scoped.json()).toEqual({ chunks: [
      { hash: a.hash, size: 100, content: a.content, stamp: a.stamp },
      { hash: b.hash, size: 200, content: b.content, stamp: b.stamp },
    ] });
    const all = (await (await postJson('/v1/chunks/check', await mgmtToken(), { hashes })).json()) as { chunks: unknown[] };
    expect(all.chunks).toHaveLength(3);
  });

  it('rejects bad bodies with 4xx envelopes', async () => {
    const token = await mgmtToken();
    const bad = await postJson('/v1/chunks/check', token, { hashes: ['../etc'] });
    expect([bad.status, await errorCode(bad)]).toEqual([400, 'invalid_body']);
    const empty = await postJson('/v1/chunks/check', token, { hashes: [] });
    expect(empty.status).toBe(400);
    const text = await call('/v1/chunks/check', { method: 'POST', headers: auth(token), body: 'hi' });
    expect([text.status, await errorCode(text)]).toEqual([415, 'unsupported_media_type']);
  });

  it('deletes only the scoped content, and is idempotent', async () => {
    const a = await stored(await makeChunk());
    const b = await stored(await makeChunk(4096, a.content));
    const other = await stored(await makeChunk());
    const hashes = [a.hash, b.hash, other.hash, randomHash()];
    const res = await postJson('/v1/chunks/delete', await mgmtToken(a.content), { hashes });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { deleted: string[] }).deleted.sort()).toEqual([a.hash, b.hash].sort());
    expect([await has(a.hash), await has(b.hash), await has(other.hash)]).toEqual([false, false, true]);
    const again = await postJson('/v1/chunks/delete', await mgmtToken(a.content), { hashes });
    expect(await again.json()).toEqual({ deleted: [] });
  });

  it('refuses a batch delete without a content scope', async () => {
    const ch = await stored(await makeChunk());
    const res = await postJson('/v1/chunks/delete', await mgmtToken(), { hashes: [ch.hash] });
    expect([res.status, await errorCode(res)]).toEqual([403, 'forbidden']);
    expect(await has(ch.hash)).toBe(true);
  });
});

describe('inventory', () => {
  it('pages through every chunk with sizes and contents', async () => {
    const content = newContent();
    const mine = await Promise.all([1, 2, 3, 4, 5].map(async (n) => stored(await makeChunk(n * 10, content))));
    const token = await mgmtToken(content);
    const seen: { hash: string; size: number; content: string }[] = [];
    let cursor: string | null = '';
    for (let pages = 0; cursor !== null; pages++) {
      expect(pages).toBeLessThan(1000);
      const res = await call(`/v1/inventory?limit=2&cursor=${encodeURIComponent(cursor)}`, { headers: auth(token) });
      expect(res.status).toBe(200);
      const page = (await res.json()) as { chunks: typeof seen; cursor: string | null };
      seen.push(...page.chunks);
      cursor = page.cursor;
    }
    const want = mine.map((c) => ({ hash: c.hash, size: c.data.length, content })).sort((x, y) => x.hash.localeCompare(y.hash));
    expect(seen.sort((x, y) => x.hash.localeCompare(y.hash))).toEqual(want);
  });

  it('validates limit and needs a management token', async () => {
    const res = await call('/v1/inventory?limit=0', { headers: auth(await mgmtToken()) });
    expect([res.status, await errorCode(res)]).toEqual([400, 'bad_request']);
    const anon = await call('/v1/inventory');
    expect(anon.status).toBe(401);
    const get = await call('/v1/inventory', { headers: auth(await getTokenFor(newContent())) });
    expect(get.status).toBe(403);
  });
});
