// Claim 13 of the source document end to end at the protocol level: the key is bound to the
// upload stamp, so a chunk sealed under another stamp (a re-upload, an older version, another
// content) cannot be opened with the key a manifest's verified stamps yield; and the stamp's
// publish/expire window is signed, so it cannot be moved without breaking the signature.
import { describe, expect, it } from 'vitest';
import { fromBase64Url, fromUtf8, toBase64Url, toHex, utf8 } from '../../protocol/bytes.ts';
import { deriveContentKey, openChunk, sealChunk, type KeyContext } from '../../protocol/chunk-crypto.ts';
import { randomBytes } from '../../protocol/crypto-like.ts';
import { openEnvelope } from '../../protocol/signing.ts';
import { signStamp, stampDigest, UploadStamp, verifyStamps } from '../../protocol/stamps.ts';
import { createContent, cryptoLike, makeSigner, pattern } from './fixtures.ts';

const signer = await makeSigner();
const fx = await createContent({ signer });
const verified = () => verifyStamps(cryptoLike, signer.publicKey, fx.manifest.stamps, {
  contentId: fx.manifest.id, version: fx.manifest.version, hashes: fx.manifest.chunks.map((c) => c.hash), size: fx.manifest.size,
});

async function sealedUnder(stamp: { c: string; v: number }, secret = fx.secret, index = 0) {
  const s = await signStamp(cryptoLike, signer.privateKey, { t: 'upload-stamp', c: stamp.c, v: stamp.v, at: 1, nonce: toHex(randomBytes(cryptoLike, 16)) });
  const ctx: KeyContext = { contentId: stamp.c, version: stamp.v, stampDigest: await stampDigest(cryptoLike, s) };
  return sealChunk(cryptoLike, await deriveContentKey(cryptoLike, secret, ctx), ctx, index, pattern(1000, 7));
}

describe('decryption is gated by the stamp', () => {
  it('opens the chunks of the manifest with the key its verified stamps yield', async () => {
    const v = await verified();
    const ctx = { contentId: fx.manifest.id, version: fx.manifest.version, stampDigest: v.uploadDigest };
    const key = await deriveContentKey(cryptoLike, fromBase64Url(fx.manifest.key.secret), ctx);
    const c = fx.manifest.chunks[0];
    expect(await openChunk(cryptoLike, key, ctx, 0, fx.sealed.get(c.hash)!)).toEqual(fx.plain.subarray(0, c.length));
  });

  it('refuses a chunk sealed under another stamp of the same content and version (a re-upload)', async () => {
    const v = await verified();
    const ctx = { contentId: fx.manifest.id, version: 1, stampDigest: v.uploadDigest };
    const key = await deriveContentKey(cryptoLike, fx.secret, ctx);
    const other = await sealedUnder({ c: fx.manifest.id, v: 1 });
    await expect(openChunk(cryptoLike, key, ctx, 0, other)).rejects.toMatchObject({ code: 'integrity_failed' });
  });

  it('refuses a chunk from an older version, even under the same secret', async () => {
    const v = await verified();
    const ctx2 = { contentId: fx.manifest.id, version: 2, stampDigest: v.uploadDigest };
    const key2 = await deriveContentKey(cryptoLike, fx.secret, ctx2);
    const older = await sealedUnder({ c: fx.manifest.id, v: 1 });
    await expect(openChunk(cryptoLike, key2, ctx2, 0, older)).rejects.toMatchObject({ code: 'integrity_failed' });
    // and the manifest's own chunk presented as version 2 fails too
    await expect(openChunk(cryptoLike, key2, ctx2, 0, fx.sealed.get(fx.manifest.chunks[0].hash)!)).rejects.toMatchObject({ code: 'integrity_failed' });
  });

  it('refuses a chunk of another content, even one with the same secret', async () => {
    const v = await verified();
    const ctx = { contentId: fx.manifest.id, version: 1, stampDigest: v.uploadDigest };
    const key = await deriveContentKey(cryptoLike, fx.secret, ctx);
    const foreign = await sealedUnder({ c: 'c'.repeat(32), v: 1 });
    await expect(openChunk(cryptoLike, key, ctx, 0, foreign)).rejects.toMatchObject({ code: 'integrity_failed' });
  });
});

describe('the window in the upload stamp', () => {
  it('is signed: moving publishAt or expireAt breaks the signature', async () => {
    const stamp = await signStamp(cryptoLike, signer.privateKey, {
      t: 'upload-stamp', c: fx.manifest.id, v: 1, at: 5, nonce: 'a'.repeat(32), publishAt: 1000, expireAt: 2000,
    });
    const ok = await openEnvelope(cryptoLike, signer.publicKey, stamp, UploadStamp);
    expect([ok.publishAt, ok.expireAt]).toEqual([1000, 2000]);
    const [body, sig] = stamp.split('.');
    for (const change of [{ publishAt: 0 }, { expireAt: 9e12 }, { expireAt: undefined }]) {
      const moved = `${toBase64Url(utf8(JSON.stringify({ ...JSON.parse(fromUtf8(fromBase64Url(body))), ...change })))}.${sig}`;
      await expect(openEnvelope(cryptoLike, signer.publicKey, moved, UploadStamp)).rejects.toMatchObject({ code: 'token_invalid' });
    }
  });
});
