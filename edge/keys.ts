// Key material of the management tier, imported once per isolate: the Ed25519 signing key for
// tokens and stamps, and the key-encryption key that wraps content secrets at rest.
import { concatBytes, exact, fromBase64Url, utf8 } from '../protocol/bytes.ts';
import { IV_BYTES } from '../protocol/chunk-crypto.ts';
import { randomBytes } from '../protocol/crypto-like.ts';
import { BunsanError } from '../protocol/errors.ts';
import { importPrivateKey, importPublicKey } from '../protocol/signing.ts';

const cache = new Map<string, Promise<CryptoKey>>();

function cached(id: string, make: () => Promise<CryptoKey>): Promise<CryptoKey> {
  let p = cache.get(id);
  if (!p) {
    p = make();
    p.catch(() => cache.delete(id));
    cache.set(id, p);
  }
  return p;
}

export function signingKey(pkcs8: string): Promise<CryptoKey> {
  if (!pkcs8) throw new BunsanError('internal', 'SIGNING_KEY is not configured');
  return cached(`sign:${pkcs8}`, () => importPrivateKey(crypto, pkcs8));
}

/** The public half, for checking what the management tier signed (grants). */
export function verifyingKey(raw: string): Promise<CryptoKey> {
  if (!raw) throw new BunsanError('internal', 'SIGNING_PUBLIC_KEY is not configured');
  return cached(`verify:${raw}`, () => importPublicKey(crypto, raw));
}

function kek(raw: string): Promise<CryptoKey> {
  if (!raw) throw new BunsanError('internal', 'KEK is not configured');
  return cached(`kek:${raw}`, () => crypto.subtle.importKey('raw', exact(fromBase64Url(raw)), 'AES-GCM', false, ['encrypt', 'decrypt']));
}

const aad = (contentId: string) => exact(utf8(`bunsan/content-secret/v1\n${contentId}`));

/** Seals a content secret under the KEK, bound to its content id: iv || ciphertext || tag. */
export async function wrapSecret(kekRaw: string, contentId: string, secret: Uint8Array): Promise<Uint8Array> {
  const iv = randomBytes(crypto, IV_BYTES);
  const ct = await crypto.subtle.encrypt({ name: 'AES-GCM', iv: exact(iv), additionalData: aad(contentId) }, await kek(kekRaw), exact(secret));
  return concatBytes([iv, new Uint8Array(ct)]);
}

export async function unwrapSecret(kekRaw: string, contentId: string, wrapped: Uint8Array): Promise<Uint8Array> {
  const pt = await crypto.subtle.decrypt(
    { name: 'AES-GCM', iv: exact(wrapped.subarray(0, IV_BYTES)), additionalData: aad(contentId) },
    await kek(kekRaw),
    exact(wrapped.subarray(IV_BYTES)),
  );
  return new Uint8Array(pt);
}
