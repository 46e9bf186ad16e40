// A distribution node's token checks: every way an upload, download or management token can be wrong.
import { describe, expect, it } from 'vitest';
import { generateSigningKeyPair, importPrivateKey } from '../../protocol/signing.ts';
import {
  auth, call, errorCode, getTokenFor, makeChunk, mgmtToken, newContent, peek, putTokenFor, sign, stored, upload,
} from './helpers.ts';

describe('tokens', () => {
  const status = async (res: Response) => [res.status, await errorCode(res)];

  it('requires a token, and a well-formed Authorization header', async () => {
    const ch = await stored(await makeChunk());
    expect(await status(await call(`/v1/chunks/${ch.hash}`))).toEqual([401, 'unauthorized']);
    const basic = await call(`/v1/chunks/${ch.hash}`, { headers: { authorization: 'Basic abc' } });
    expect(await status(basic)).toEqual([401, 'unauthorized']);
  });

  it('refuses the wrong token type', async () => {
    const ch = await makeChunk();
    expect(await status(await upload(ch, await getTokenFor(ch.content)))).toEqual([403, 'forbidden']);
    await stored(ch);
    const res = await call(`/v1/chunks/${ch.hash}`, { headers: auth(await putTokenFor(ch)) });
    expect(await status(res)).toEqual([403, 'forbidden']);
    const del = await call(`/v1/chunks/${ch.hash}`, { method: 'DELETE', headers: auth(await getTokenFor(ch.content)) });
    expect(await status(del)).toEqual([403, 'forbidden']);
  });

  it('refuses expired and forged tokens', async () => {
    const ch = await makeChunk();
    const expired = await putTokenFor(ch, { exp: Math.floor(Date.now() / 1000) - 5 });
    expect(await status(await upload(ch, expired))).toEqual([401, 'token_expired']);
    const stranger = await importPrivateKey(crypto, (await generateSigningKeyPair(crypto)).privateKey);
    const forged = await sign({ t: 'put', c: ch.content, v: 1, n: 'n1', h: ch.hash, s: ch.stamp, exp: 2e9 }, stranger);
    expect(await status(await upload(ch, forged))).toEqual([401, 'token_invalid']);
    expect(await status(await upload(ch, 'not.a-token'))).toEqual([401, 'token_invalid']);
    expect(await peek(ch.hash)).toBeNull();
  });

  it('refuses upload tokens for another node or another hash', async () => {
    const ch = await makeChunk();
    const other = await makeChunk();
    expect(await status(await upload(ch, await putTokenFor(ch, { n: 'n2' })))).toEqual([403, 'wrong_audience']);
    expect(await status(await upload(ch, await putTokenFor(other)))).toEqual([403, 'wrong_audience']);
    expect(await peek(ch.hash)).toBeNull();
  });

  it('answers 404 alike for another content\'s chunk and an absent one', async () => {
    const ch = await stored(await makeChunk());
    const wrong = await call(`/v1/chunks/${ch.hash}`, { headers: auth(await getTokenFor(newContent())) });
    expect(await status(wrong)).toEqual([404, 'chunk_not_found']);
    const absent = (await makeChunk()).hash;
    const missing = await call(`/v1/chunks/${absent}`, { headers: auth(await getTokenFor(ch.content)) });
    expect(await status(missing)).toEqual([404, 'chunk_not_found']);
  });

  it('keeps a get token narrowed to one chunk to that chunk', async () => {
    const ch = await stored(await makeChunk());
    const other = await stored(await makeChunk(4096, ch.content));
    const narrow = await sign({ t: 'get', c: ch.content, h: ch.hash, exp: Math.floor(Date.now() / 1000) + 60 });
    expect((await call(`/v1/chunks/${ch.hash}`, { headers: auth(narrow) })).status).toBe(200);
    expect(await status(await call(`/v1/chunks/${other.hash}`, { headers: auth(narrow) }))).toEqual([403, 'forbidden']);
  });

  it('refuses a management token for another node', async () => {
    const ch = await stored(await makeChunk());
    const token = await sign({ t: 'mgmt', n: 'n2', exp: 2e9 });
    const res = await call(`/v1/chunks/${ch.hash}`, { method: 'DELETE', headers: auth(token) });
    expect(await status(res)).toEqual([403, 'wrong_audience']);
    expect((await call('/v1/inventory', { headers: auth(await mgmtToken()) })).status).toBe(200);
  });
});
