import { describe, expect, it } from 'vitest';
import { SEAL_OVERHEAD, deriveContentKey, openChunk, sealChunk, type KeyContext } from '../../protocol/chunk-crypto.ts';
import { randomBytes } from '../../protocol/crypto-like.ts';
import { BunsanError } from '../../protocol/errors.ts';
import { cryptoLike, pattern } from './fixtures.ts';

const secret = randomBytes(cryptoLike, 32);
const ctx: KeyContext = { contentId: 'a'.repeat(32), version: 3, stampDigest: 'b'.repeat(64) };
const key = await deriveContentKey(cryptoLike, secret, ctx);
const plain = pattern(5000);

async function integrityFails(p: Promise<unknown>) {
  await expect(p).rejects.toBeInstanceOf(BunsanError);
  await expect(p).rejects.toMatchObject({ code: 'integrity_failed' });
}

describe('chunk crypto', () => {
  it('round-trips a chunk, sealed with a fresh IV each time', async () => {
    const sealed = await sealChunk(cryptoLike, key, ctx, 7, plain);
    expect(sealed.length).toBe(plain.length + SEAL_OVERHEAD);
    expect(await openChunk(cryptoLike, key, ctx, 7, sealed)).toEqual(plain);
    const again = await sealChunk(cryptoLike, key, ctx, 7, plain);
    expect(again).not.toEqual(sealed);
    expect(await openChunk(cryptoLike, key, ctx, 7, again)).toEqual(plain);
  });

  it('round-trips an empty chunk and a subarray view', async () => {
    expect(await openChunk(cryptoLike, key, ctx, 0, await sealChunk(cryptoLike, key, ctx, 0, new Uint8Array(0)))).toEqual(new Uint8Array(0));
    const view = plain.subarray(100, 200);
    const sealed = await sealChunk(cryptoLike, key, ctx, 1, view);
    const framed = new Uint8Array(sealed.length + 10);
    framed.set(sealed, 5);
    expect(await openChunk(cryptoLike, key, ctx, 1, framed.subarray(5, 5 + sealed.length))).toEqual(view);
  });

  it('the same secret and context derive the same key', async () => {
    const key2 = await deriveContentKey(cryptoLike, secret, { ...ctx });
    const sealed = await sealChunk(cryptoLike, key, ctx, 2, plain);
    expect(await openChunk(cryptoLike, key2, ctx, 2, sealed)).toEqual(plain);
  });

  it('fails on tampered ciphertext, IV or tag', async () => {
    const sealed = await sealChunk(cryptoLike, key, ctx, 0, plain);
    for (const at of [0, 11, 12, sealed.length >> 1, sealed.length - 1]) {
      const bad = sealed.slice();
      bad[at] ^= 0x80;
      await integrityFails(openChunk(cryptoLike, key, ctx, 0, bad));
    }
    await integrityFails(openChunk(cryptoLike, key, ctx, 0, sealed.subarray(0, sealed.length - 1)));
    await integrityFails(openChunk(cryptoLike, key, ctx, 0, sealed.subarray(0, SEAL_OVERHEAD - 1)));
  });

  it('fails under another stamp digest, index, version or content id', async () => {
    const sealed = await sealChunk(cryptoLike, key, ctx, 4, plain);
    const variants: KeyContext[] = [
      { ...ctx, stampDigest: 'c'.repeat(64) },
      { ...ctx, version: 4 },
      { ...ctx, contentId: 'd'.repeat(32) },
    ];
    for (const other of variants) {
      // a key derived for the other context, and this key with the other context's additional data
      const otherKey = await deriveContentKey(cryptoLike, secret, other);
      await integrityFails(openChunk(cryptoLike, otherKey, other, 4, sealed));
      await integrityFails(openChunk(cryptoLike, key, other, 4, sealed));
    }
    await integrityFails(openChunk(cryptoLike, key, ctx, 5, sealed));
    const otherSecret = await deriveContentKey(cryptoLike, randomBytes(cryptoLike, 32), ctx);
    await integrityFails(openChunk(cryptoLike, otherSecret, ctx, 4, sealed));
  });

  it('refuses a content secret that is not 32 bytes', async () => {
    await expect(deriveContentKey(cryptoLike, new Uint8Array(31), ctx)).rejects.toMatchObject({ code: 'bad_request' });
  });
});
