// Ed25519 signed envelopes: tokens and stamps share one compact format,
// "<base64url(JSON payload)>.<base64url(signature)>". The management tier holds the private
// key; nodes and clients hold only the public key, so a node can verify but never mint.
import type { z } from 'zod';
import { exact, fromBase64Url, fromUtf8, toBase64Url, utf8 } from './bytes.ts';
import type { CryptoLike } from './crypto-like.ts';
import { BunsanError } from './errors.ts';

const ALG = { name: 'Ed25519' } as const;

export interface SigningKeyPair {
  /** PKCS#8, base64url */
  privateKey: string;
  /** raw 32-byte public key, base64url */
  publicKey: string;
}

export async function generateSigningKeyPair(crypto: CryptoLike): Promise<SigningKeyPair> {
  const kp = (await crypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as CryptoKeyPair;
  const pk = new Uint8Array((await crypto.subtle.exportKey('pkcs8', kp.privateKey)) as ArrayBuffer);
  const pub = new Uint8Array((await crypto.subtle.exportKey('raw', kp.publicKey)) as ArrayBuffer);
  return { privateKey: toBase64Url(pk), publicKey: toBase64Url(pub) };
}

export function importPrivateKey(crypto: CryptoLike, pkcs8: string): Promise<CryptoKey> {
  return crypto.subtle.importKey('pkcs8', exact(fromBase64Url(pkcs8)), ALG, false, ['sign']);
}

export function importPublicKey(crypto: CryptoLike, raw: string): Promise<CryptoKey> {
  return crypto.subtle.importKey('raw', exact(fromBase64Url(raw)), ALG, false, ['verify']);
}

export async function signEnvelope(crypto: CryptoLike, key: CryptoKey, payload: object): Promise<string> {
  const body = toBase64Url(utf8(JSON.stringify(payload)));
  const sig = new Uint8Array(await crypto.subtle.sign(ALG, key, exact(utf8(body))));
  return `${body}.${toBase64Url(sig)}`;
}

/** Verifies the signature and the payload's shape; expiry is the caller's policy. */
export async function openEnvelope<S extends z.ZodType>(
  crypto: CryptoLike, key: CryptoKey, envelope: string, schema: S,
): Promise<z.infer<S>> {
  const parts = envelope.split('.');
  if (parts.length !== 2 || envelope.length > 8192) throw new BunsanError('token_invalid', 'malformed signed envelope');
  let sig: Uint8Array;
  let body: unknown;
  try {
    sig = fromBase64Url(parts[1]);
    body = JSON.parse(fromUtf8(fromBase64Url(parts[0])));
  } catch {
    throw new BunsanError('token_invalid', 'malformed signed envelope');
  }
  const ok = sig.length === 64 && (await crypto.subtle.verify(ALG, key, exact(sig), exact(utf8(parts[0]))));
  if (!ok) throw new BunsanError('token_invalid', 'signature does not verify');
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw new BunsanError('token_invalid', 'signed payload has the wrong shape');
  return parsed.data;
}
