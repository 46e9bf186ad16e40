// Per-chunk encryption. One AES-256-GCM key per content version, derived with HKDF from the
// content secret and salted with the upload stamp's digest: a chunk sealed under another stamp,
// version or content cannot be opened (claim 13 of the source document). The chunk index and the
// stamp digest go into the additional data so chunks cannot be reordered or swapped between
// versions without detection. Sealed layout: iv(12) || ciphertext || tag(16).
import { concatBytes, exact, fromHex, utf8 } from './bytes.ts';
import { BunsanError } from './errors.ts';
import { randomBytes, type CryptoLike } from './crypto-like.ts';

export const IV_BYTES = 12;
export const TAG_BYTES = 16;
export const SEAL_OVERHEAD = IV_BYTES + TAG_BYTES;
export const SECRET_BYTES = 32;

export interface KeyContext {
  contentId: string;
  version: number;
  /** hex SHA-256 of the signed upload stamp */
  stampDigest: string;
}

export async function deriveContentKey(crypto: CryptoLike, secret: Uint8Array, ctx: KeyContext): Promise<CryptoKey> {
  if (secret.length !== SECRET_BYTES) throw new BunsanError('bad_request', 'content secret must be 32 bytes');
  const ikm = await crypto.subtle.importKey('raw', exact(secret), 'HKDF', false, ['deriveKey']);
  return crypto.subtle.deriveKey(
    {
      name: 'HKDF',
      hash: 'SHA-256',
      salt: exact(fromHex(ctx.stampDigest)),
      info: exact(utf8(`bunsan/content-key/v1\n${ctx.contentId}\n${ctx.version}`)),
    },
    ikm,
    { name: 'AES-GCM', length: 256 },
    false,
    ['encrypt', 'decrypt'],
  );
}

function additionalData(ctx: KeyContext, index: number): Uint8Array {
  return concatBytes([utf8(`bunsan/chunk/v1\n${ctx.contentId}\n${ctx.version}\n${index}\n`), fromHex(ctx.stampDigest)]);
}

export async function sealChunk(
  crypto: CryptoLike, key: CryptoKey, ctx: KeyContext, index: number, plain: Uint8Array,
): Promise<Uint8Array> {
  const iv = randomBytes(crypto, IV_BYTES);
  const ct = await crypto.subtle.encrypt(
    { name: 'AES-GCM', iv: exact(iv), additionalData: exact(additionalData(ctx, index)) }, key, exact(plain),
  );
  const out = new Uint8Array(IV_BYTES + ct.byteLength);
  out.set(iv, 0);
  out.set(new Uint8Array(ct), IV_BYTES);
  return out;
}

export async function openChunk(
  crypto: CryptoLike, key: CryptoKey, ctx: KeyContext, index: number, sealed: Uint8Array,
): Promise<Uint8Array> {
  if (sealed.length < SEAL_OVERHEAD) throw new BunsanError('integrity_failed', `chunk ${index} is truncated`);
  try {
    const pt = await crypto.subtle.decrypt(
      { name: 'AES-GCM', iv: exact(sealed.subarray(0, IV_BYTES)), additionalData: exact(additionalData(ctx, index)) },
      key,
      exact(sealed.subarray(IV_BYTES)),
    );
    return new Uint8Array(pt);
  } catch {
    throw new BunsanError('integrity_failed', `chunk ${index} failed authentication (wrong key, stamp or data)`);
  }
}
