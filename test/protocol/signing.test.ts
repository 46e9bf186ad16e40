import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { fromBase64Url, toBase64Url, utf8 } from '../../protocol/bytes.ts';
import { openEnvelope, signEnvelope } from '../../protocol/signing.ts';
import { cryptoLike, makeSigner } from './fixtures.ts';

const signer = await makeSigner();
const other = await makeSigner();
const Shape = z.object({ a: z.number() });

describe('signed envelopes', () => {
  it('opens what was signed, with the payload shape checked', async () => {
    const env = await signEnvelope(cryptoLike, signer.privateKey, { a: 1 });
    expect(env).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    expect(await openEnvelope(cryptoLike, signer.publicKey, env, Shape)).toEqual({ a: 1 });
    await expect(openEnvelope(cryptoLike, signer.publicKey, env, z.object({ b: z.string() }))).rejects.toMatchObject({ code: 'token_invalid' });
  });

  it('refuses another key, a changed body, a changed or moved signature', async () => {
    const env = await signEnvelope(cryptoLike, signer.privateKey, { a: 1 });
    const [body, sig] = env.split('.');
    const forged = await signEnvelope(cryptoLike, other.privateKey, { a: 1 });
    const otherBody = toBase64Url(utf8(JSON.stringify({ a: 2 })));
    const flipped = fromBase64Url(sig);
    flipped[0] ^= 1;
    for (const bad of [forged, `${otherBody}.${sig}`, `${body}.${toBase64Url(flipped)}`, `${body}.${forged.split('.')[1]}`]) {
      await expect(openEnvelope(cryptoLike, signer.publicKey, bad, Shape)).rejects.toMatchObject({ code: 'token_invalid' });
    }
  });

  it('refuses garbage without throwing anything but token_invalid', async () => {
    const garbage = ['', '.', '..', 'abc', 'a.b', 'a.b.c', '!!.??', 'e30.', `${'A'.repeat(9000)}.x`, 'e30.AAAA', 'bm90IGpzb24.' + 'A'.repeat(86)];
    for (const g of garbage) {
      await expect(openEnvelope(cryptoLike, signer.publicKey, g, Shape)).rejects.toMatchObject({ code: 'token_invalid' });
    }
  });
});
