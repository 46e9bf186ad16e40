// Stamps certify when content was stored (claim 13 of the source document). The upload stamp is
// signed when an upload opens and salts every chunk key; the commit stamp is signed once every
// chunk is confirmed at its nodes and binds the ordered hash list. Clients verify both.
import { z } from 'zod';
import { utf8 } from './bytes.ts';
import type { CryptoLike } from './crypto-like.ts';
import { BunsanError } from './errors.ts';
import { sha256Hex } from './hash.ts';
import { ChunkHash, ContentId } from './ids.ts';
import { openEnvelope, signEnvelope } from './signing.ts';

const ms = z.number().int().nonnegative();

export const UploadStamp = z.object({
  t: z.literal('upload-stamp'), c: ContentId, v: z.number().int().positive(), at: ms,
  nonce: z.string().regex(/^[0-9a-f]{32}$/), publishAt: ms.optional(), expireAt: ms.optional(),
});
export const CommitStamp = z.object({
  t: z.literal('commit-stamp'), c: ContentId, v: z.number().int().positive(), at: ms,
  upload: ChunkHash, root: ChunkHash, chunks: z.number().int().nonnegative(), size: ms,
});
export type UploadStamp = z.infer<typeof UploadStamp>;
export type CommitStamp = z.infer<typeof CommitStamp>;

export const signStamp = (crypto: CryptoLike, key: CryptoKey, p: UploadStamp | CommitStamp) => signEnvelope(crypto, key, p);

export const stampDigest = (crypto: CryptoLike, stamp: string) => sha256Hex(crypto, utf8(stamp));

/** The commit stamp's root: SHA-256 over the ordered chunk hashes, one per line. */
export const hashListRoot = (crypto: CryptoLike, hashes: string[]) => sha256Hex(crypto, utf8(hashes.join('\n')));

export interface VerifiedStamps {
  upload: UploadStamp;
  commit: CommitStamp;
  uploadDigest: string;
}

/** Checks both signatures and that they agree with each other and with the chunk list. */
export async function verifyStamps(
  crypto: CryptoLike, key: CryptoKey, stamps: { upload: string; commit: string },
  expect: { contentId: string; version: number; hashes: string[]; size: number },
): Promise<VerifiedStamps> {
  const upload = await openEnvelope(crypto, key, stamps.upload, UploadStamp);
  const commit = await openEnvelope(crypto, key, stamps.commit, CommitStamp);
  const uploadDigest = await stampDigest(crypto, stamps.upload);
  const root = await hashListRoot(crypto, expect.hashes);
  const ok = upload.c === expect.contentId && commit.c === expect.contentId && upload.v === expect.version
    && commit.v === expect.version && commit.upload === uploadDigest && commit.root === root
    && commit.chunks === expect.hashes.length && commit.size === expect.size;
  if (!ok) throw new BunsanError('stamp_mismatch', 'manifest stamps do not match its chunk list');
  return { upload, commit, uploadDigest };
}
