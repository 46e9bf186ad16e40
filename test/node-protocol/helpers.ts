// Shared setup for the node-protocol suite: the node under test (whichever platform the vitest
// project maps `#node-target` to), and tokens minted with the management key exactly as the
// management tier would mint them.
import { webcrypto } from 'node:crypto';
import { target } from '#node-target';
import { toHex } from '../../protocol/bytes.ts';
import type { CryptoLike } from '../../protocol/crypto-like.ts';
import { sha256Hex } from '../../protocol/hash.ts';
import { newContentId } from '../../protocol/ids.ts';
import { importPrivateKey } from '../../protocol/signing.ts';
import { expiresIn, issueToken, type AnyToken } from '../../protocol/tokens.ts';

export { target };
const cryptoLike = (globalThis.crypto ?? webcrypto) as unknown as CryptoLike;
export const NODE = 'n1';
export const call = target.call;
export const peek = (hash: string) => target.peek(hash);

let keyP: Promise<CryptoKey> | undefined;
export const signingKey = () => (keyP ??= importPrivateKey(cryptoLike, target.signingKey));
export const soon = () => expiresIn(Date.now(), 600);
export const sign = async (t: AnyToken, key?: CryptoKey) => issueToken(cryptoLike, key ?? (await signingKey()), t);
export const auth = (token: string) => ({ authorization: `Bearer ${token}` });

export const newContent = () => newContentId(cryptoLike);
export const randomHash = () => toHex(cryptoLike.getRandomValues(new Uint8Array(32)));
export const nonce = () => toHex(cryptoLike.getRandomValues(new Uint8Array(16)));

export interface Chunk { data: Uint8Array<ArrayBuffer>; hash: string; content: string; stamp: string }

export async function makeChunk(size = 4096, content = newContent()): Promise<Chunk> {
  const data = new Uint8Array(size);
  for (let o = 0; o < size; o += 65536) cryptoLike.getRandomValues(data.subarray(o, Math.min(size, o + 65536)));
  return { data, hash: await sha256Hex(cryptoLike, data), content, stamp: randomHash() };
}

export const putTokenFor = (ch: Chunk, over: Partial<Extract<AnyToken, { t: 'put' }>> = {}) =>
  sign({ t: 'put', c: ch.content, v: 1, n: NODE, h: ch.hash, s: ch.stamp, exp: soon(), ...over });
export const getTokenFor = (content: string) => sign({ t: 'get', c: content, exp: soon() });
export const mgmtToken = (c?: string) => sign({ t: 'mgmt', n: NODE, ...(c ? { c } : {}), exp: soon() });

export async function upload(ch: Chunk, token?: string, to: (path: string, init?: RequestInit) => Promise<Response> = call, node = NODE): Promise<Response> {
  return to(`/v1/chunks/${ch.hash}`, { method: 'PUT', headers: auth(token ?? (await putTokenFor(ch, { n: node }))), body: ch.data });
}

export async function stored(ch: Chunk): Promise<Chunk> {
  const res = await upload(ch);
  if (res.status !== 201) throw new Error(`upload failed: ${res.status} ${await res.text()}`);
  return ch;
}

export async function errorCode(res: Response): Promise<string> {
  return ((await res.json()) as { error: { code: string } }).error.code;
}

export const postJson = async (path: string, token: string, body: unknown) =>
  call(path, { method: 'POST', headers: { ...auth(token), 'content-type': 'application/json' }, body: JSON.stringify(body) });
