// Puts a file on the test stack the way a provider would, through the shared direct-mode
// uploader, and commits it with the media index the uploader built.
import { webcrypto } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { createApiClient } from '../../protocol/api-client.ts';
import type { CryptoLike } from '../../protocol/crypto-like.ts';
import { uploadDirect } from '../../protocol/upload/direct.ts';
import type { TestStack } from '../system/local-stack.ts';

export interface Uploaded { id: string; bytes: Buffer; name: string; type: string }

export async function uploadFile(stack: TestStack, path: string, type: string, o: { chunkSize?: number; replicas?: number; visibility?: 'public' | 'private' } = {}): Promise<Uploaded> {
  const bytes = readFileSync(path);
  const api = createApiClient({ portal: stack.portalUrl, token: stack.token, fetch: (u, i) => fetch(u, i) });
  const name = basename(path);
  const session = await api.openUpload({
    name, type, size: bytes.length, replicas: o.replicas ?? 2, chunking: { mode: 'regular', size: o.chunkSize ?? 64 * 1024 },
    ...(o.visibility ? { visibility: o.visibility } : {}),
  });
  const { media } = await uploadDirect({
    api, session, crypto: webcrypto as unknown as CryptoLike, fetch: (u, i) => fetch(u, i),
    read: async (offset, length) => bytes.subarray(offset, offset + length),
  });
  await api.commit(session.id, media);
  return { id: session.id, bytes, name, type };
}
