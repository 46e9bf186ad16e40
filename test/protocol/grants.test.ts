import { describe, expect, it } from 'vitest';
import { issueGrant, looksLikeEnvelope, verifyGrant } from '../../protocol/grants.ts';
import { issueToken } from '../../protocol/tokens.ts';
import { cryptoLike, makeSigner } from './fixtures.ts';

const signer = await makeSigner();
const stranger = await makeSigner();
const C = 'a'.repeat(32);
const NOW = 1_700_000_000_000;
const grant = (over: object = {}, key = signer.privateKey) =>
  issueGrant(cryptoLike, key, { t: 'grant', c: C, id: 'b'.repeat(32), exp: NOW / 1000 + 60, ...over });

describe('grants', () => {
  it('verify for their content until they expire', async () => {
    expect(await verifyGrant(cryptoLike, signer.publicKey, await grant(), C, NOW)).toMatchObject({ c: C, id: 'b'.repeat(32) });
    await expect(verifyGrant(cryptoLike, signer.publicKey, await grant(), C, NOW + 60_000)).rejects.toMatchObject({ code: 'token_expired' });
    await expect(verifyGrant(cryptoLike, signer.publicKey, await grant(), 'c'.repeat(32), NOW)).rejects.toMatchObject({ code: 'wrong_audience' });
  });

  it('refuse another signer, another token type, and extra fields', async () => {
    await expect(verifyGrant(cryptoLike, signer.publicKey, await grant({}, stranger.privateKey), C, NOW)).rejects.toMatchObject({ code: 'token_invalid' });
    const get = await issueToken(cryptoLike, signer.privateKey, { t: 'get', c: C, exp: NOW / 1000 + 60 });
    await expect(verifyGrant(cryptoLike, signer.publicKey, get, C, NOW)).rejects.toMatchObject({ code: 'token_invalid' });
    await expect(verifyGrant(cryptoLike, signer.publicKey, await grant({ admin: true }), C, NOW)).rejects.toMatchObject({ code: 'token_invalid' });
  });

  it('look like envelopes, API tokens do not', async () => {
    expect(looksLikeEnvelope(await grant())).toBe(true);
    expect(looksLikeEnvelope('bsn_abcdef')).toBe(false);
  });
});
