// Shared setup for the node Worker tests: the node app over the test R2 bucket, and tokens
// minted with the test signing key exactly as the management tier would mint them.
// `env` from cloudflare:workers is the test bindings under the vitest plugin, and its types come
// with workers-types, so this file needs no cloudflare:test declarations.
import { env } from 'cloudflare:workers';
import { toHex } from '../../protocol/bytes.ts';
import { sha256Hex } from '../../protocol/hash.ts';
import { newContentId } from '../../protocol/ids.ts';
import { importPrivateKey } from '../../protocol/signing.ts';
import { expiresIn, issueToken, type AnyToken } from '../../protocol/tokens.ts';
import app from '../../edge/node/index.ts';

// `env` is typed as Cloudflare.Env; this is the slice the node tests use.
export const E = env as unknown as { BUCKET: R2Bucket; SIGNING_KEY: string; SIGNING_PUBLIC_KEY: string };
export const NODE = 'n1';
export const nodeEnv = { BUCKET: E.BUCKET, NODE_ID: NODE, SIGNING_PUBLIC_KEY: E.SIGNING_PUBLIC_KEY, REGION: 'test-region' };

export const call = (path: string, init?: RequestInit) => app.request(`https://node.test${path}`, init, nodeEnv);

let keyP: Promise<CryptoKey> | undefined;
export const signingKey = () => (keyP ??= importPrivateKey(crypto, E.SIGNING_KEY));
export const soon = () => expiresIn(Date.now(), 600);
export const sign = async (t: AnyToken, key?: CryptoKey) => issueToken(crypto, key ?? (await signingKey()), t);
export const auth = (token: string) => ({ authorization: `Bearer ${token}` });

export const newContent = () => newContentId(crypto);
export const randomHash = () => toHex(crypto.getRandomValues(new Uint8Array(32)));

export interface Chunk { data: Uint8Array<ArrayBuffer>; hash: string; content: string; stamp: string }

export async function makeChunk(size = 4096, content = newContent()): Promise<Chunk> {
  const data = new Uint8Array(size);
  for (let o = 0; o < size; o += 65536) crypto.getRandomValues(data.subarray(o, Math.min(size, o + 65536)));
  return { data, hash: await sha256Hex(crypto, data), content, stamp: randomHash() };
}

export const putTokenFor = (ch: Chunk, over: Partial<Extract<AnyToken, { t: 'put' }>> = {}) =>
  sign({ t: 'put', c: ch.content, v: 1, n: NODE, h: ch.hash, s: ch.stamp, exp: soon(), ...over });
export const getTokenFor = (content: string) => sign({ t: 'get', c: content, exp: soon() });
export const mgmtToken = (c?: string) => sign({ t: 'mgmt', n: NODE, ...(c ? { c } : {}), exp: soon() });

export async function upload(ch: Chunk, token?: string): Promise<Response> {
  return call(`/v1/chunks/${ch.hash}`, { method: 'PUT', headers: auth(token ?? (await putTokenFor(ch))), body: ch.data });
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
