import { describe, expect, it } from 'vitest';
import { hashListRoot, signStamp, stampDigest, verifyStamps } from '../../protocol/stamps.ts';
import { createContent, cryptoLike, makeSigner, type ContentFixture } from './fixtures.ts';

const signer = await makeSigner();
const fx = await createContent({ signer });
const fy = await createContent({ signer });

const expectOf = (f: ContentFixture) => ({
  contentId: f.manifest.id, version: f.manifest.version, hashes: f.manifest.chunks.map((c) => c.hash), size: f.manifest.size,
});

describe('stamps', () => {
  it('accepts a matching pair and returns the upload digest', async () => {
    const v = await verifyStamps(cryptoLike, signer.publicKey, fx.manifest.stamps, expectOf(fx));
    expect(v.uploadDigest).toBe(fx.ctx.stampDigest);
    expect(v.upload.c).toBe(fx.manifest.id);
    expect(v.commit.chunks).toBe(fx.manifest.chunks.length);
  });

  it('rejects a changed hash list', async () => {
    const e = expectOf(fx);
    const swapped = [e.hashes[1], e.hashes[0], ...e.hashes.slice(2)];
    const changed = [...e.hashes.slice(0, -1), 'f'.repeat(64)];
    for (const hashes of [swapped, changed, e.hashes.slice(1), [...e.hashes, e.hashes[0]]]) {
      await expect(verifyStamps(cryptoLike, signer.publicKey, fx.manifest.stamps, { ...e, hashes })).rejects.toMatchObject({ code: 'stamp_mismatch' });
    }
  });

  it('rejects a changed size or version', async () => {
    await expect(verifyStamps(cryptoLike, signer.publicKey, fx.manifest.stamps, { ...expectOf(fx), size: fx.manifest.size + 1 }))
      .rejects.toMatchObject({ code: 'stamp_mismatch' });
    await expect(verifyStamps(cryptoLike, signer.publicKey, fx.manifest.stamps, { ...expectOf(fx), version: 2 }))
      .rejects.toMatchObject({ code: 'stamp_mismatch' });
  });

  it('rejects stamps of other content, and an upload stamp paired with another commit', async () => {
    await expect(verifyStamps(cryptoLike, signer.publicKey, fy.manifest.stamps, expectOf(fx))).rejects.toMatchObject({ code: 'stamp_mismatch' });
    await expect(verifyStamps(cryptoLike, signer.publicKey, { ...fy.manifest.stamps, commit: fx.commitStamp }, expectOf(fx)))
      .rejects.toMatchObject({ code: 'stamp_mismatch' });
    // a second upload stamp for the same content and version is a different upload
    const second = await signStamp(cryptoLike, signer.privateKey, { t: 'upload-stamp', c: fx.manifest.id, v: 1, at: 1, nonce: '0'.repeat(32) });
    await expect(verifyStamps(cryptoLike, signer.publicKey, { upload: second, commit: fx.commitStamp }, expectOf(fx)))
      .rejects.toMatchObject({ code: 'stamp_mismatch' });
  });

  it('rejects stamps signed by another key, or swapped', async () => {
    const stranger = await makeSigner();
    await expect(verifyStamps(cryptoLike, stranger.publicKey, fx.manifest.stamps, expectOf(fx))).rejects.toMatchObject({ code: 'token_invalid' });
    await expect(verifyStamps(cryptoLike, signer.publicKey, { upload: fx.commitStamp, commit: fx.uploadStamp }, expectOf(fx)))
      .rejects.toMatchObject({ code: 'token_invalid' });
  });

  it('derives the digest and root deterministically, order-sensitive', async () => {
    expect(await stampDigest(cryptoLike, fx.uploadStamp)).toBe(fx.ctx.stampDigest);
    const hs = ['a'.repeat(64), 'b'.repeat(64)];
    expect(await hashListRoot(cryptoLike, hs)).toBe(await hashListRoot(cryptoLike, [...hs]));
    expect(await hashListRoot(cryptoLike, hs)).not.toBe(await hashListRoot(cryptoLike, hs.slice().reverse()));
  });
});
