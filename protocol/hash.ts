import { exact, toHex } from './bytes.ts';
import type { CryptoLike } from './crypto-like.ts';

export const HASH_RE = /^[0-9a-f]{64}$/;

export async function sha256(crypto: CryptoLike, data: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', exact(data)));
}

export async function sha256Hex(crypto: CryptoLike, data: Uint8Array): Promise<string> {
  return toHex(await sha256(crypto, data));
}
