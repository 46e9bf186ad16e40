import { describe, expect, it } from 'vitest';
import { toBase64Url, utf8 } from '../../protocol/bytes.ts';
import {
  GetToken, MgmtToken, PutToken, TOKEN_TTL, bearer, expiresIn, issueToken, verifyToken,
} from '../../protocol/tokens.ts';
import { cryptoLike, makeSigner } from './fixtures.ts';

const signer = await makeSigner();
const other = await makeSigner();
const now = 1_700_000_000_000;
const c = 'a'.repeat(32);
const h = 'b'.repeat(64);
const get = { t: 'get', c, exp: expiresIn(now, TOKEN_TTL.get) } as const;
const put = { t: 'put', c, v: 1, n: 'n1', h, s: h, exp: expiresIn(now, TOKEN_TTL.put) } as const;
const mgmt = { t: 'mgmt', n: 'n1', exp: expiresIn(now, TOKEN_TTL.mgmt) } as const;

describe('tokens', () => {
  it('verifies what the management key issued', async () => {
    expect(await verifyToken(cryptoLike, signer.publicKey, await issueToken(cryptoLike, signer.privateKey, get), GetToken, now)).toEqual(get);
    expect(await verifyToken(cryptoLike, signer.publicKey, await issueToken(cryptoLike, signer.privateKey, put), PutToken, now)).toEqual(put);
    expect(await verifyToken(cryptoLike, signer.publicKey, await issueToken(cryptoLike, signer.privateKey, mgmt), MgmtToken, now)).toEqual(mgmt);
  });

  it('expires at exp (seconds), not a millisecond later', async () => {
    const tok = await issueToken(cryptoLike, signer.privateKey, get);
    await expect(verifyToken(cryptoLike, signer.publicKey, tok, GetToken, get.exp * 1000 - 1)).resolves.toBeTruthy();
    await expect(verifyToken(cryptoLike, signer.publicKey, tok, GetToken, get.exp * 1000)).rejects.toMatchObject({ code: 'token_expired' });
    await expect(verifyToken(cryptoLike, signer.publicKey, tok, GetToken, now + 7 * 3600_000)).rejects.toMatchObject({ code: 'token_expired' });
  });

  it('refuses a token forged with another key', async () => {
    const tok = await issueToken(cryptoLike, other.privateKey, get);
    await expect(verifyToken(cryptoLike, signer.publicKey, tok, GetToken, now)).rejects.toMatchObject({ code: 'token_invalid', status: 401 });
  });

  it('refuses a token of the wrong type', async () => {
    const tok = await issueToken(cryptoLike, signer.privateKey, get);
    await expect(verifyToken(cryptoLike, signer.publicKey, tok, PutToken, now)).rejects.toMatchObject({ code: 'forbidden', status: 403 });
    const m = await issueToken(cryptoLike, signer.privateKey, mgmt);
    await expect(verifyToken(cryptoLike, signer.publicKey, m, GetToken, now)).rejects.toMatchObject({ code: 'forbidden' });
  });

  it('refuses a missing token and garbage', async () => {
    for (const t of [null, undefined, '']) {
      await expect(verifyToken(cryptoLike, signer.publicKey, t, GetToken, now)).rejects.toMatchObject({ code: 'unauthorized' });
    }
    const signedNonsense = await issueToken(cryptoLike, signer.privateKey, { t: 'get', c: 'not-hex', exp: 1 } as never);
    const unsigned = `${toBase64Url(utf8(JSON.stringify(get)))}.${'A'.repeat(86)}`;
    for (const t of ['garbage', 'a.b', 'x.y.z', '....', 'Bearer abc', signedNonsense, unsigned]) {
      await expect(verifyToken(cryptoLike, signer.publicKey, t, GetToken, now)).rejects.toMatchObject({ code: 'token_invalid' });
    }
  });

  it('reads a bearer header', () => {
    expect(bearer('Bearer abc.def-_')).toBe('abc.def-_');
    for (const h of [null, undefined, '', 'bearer abc', 'Bearer', 'Bearer a b', 'Basic abc', 'Bearer abc\n']) expect(bearer(h)).toBeNull();
  });

  it('computes expiry in whole seconds', () => {
    expect(expiresIn(1_500, 10)).toBe(11);
  });
});
