// The manifest the manager hands a client: everything needed to fetch, verify, decrypt and
// reassemble one content version. Validated on both sides with the same schema.
import { z } from 'zod';
import { SEAL_OVERHEAD } from './chunk-crypto.ts';
import { ChunkHash, ContentId, NodeId } from './ids.ts';
import { MediaIndex, seekPastEnd } from './media/media-index.ts';
import { Chunking } from './split.ts';

export const MANIFEST_FORMAT = 1;

/** A node's base URL. Only http(s): clients fetch from it, so javascript:, file: and the like are refused. */
export const NodeUrl = z.string().url().max(512).refine((u) => /^https?:\/\//i.test(u), 'node url must be http or https');

export const NodeInfo = z.object({
  id: NodeId,
  url: NodeUrl,
  region: z.string().max(64),
  grade: z.number().int().min(0).max(9),
  /** recent health: replicas the managers found bad on this node in the last day (absent: none) */
  faults: z.number().int().nonnegative().max(1_000_000).optional(),
});
export type NodeInfo = z.infer<typeof NodeInfo>;

export const ManifestChunk = z.object({
  index: z.number().int().nonnegative(),
  offset: z.number().int().nonnegative(),
  length: z.number().int().positive(),
  sealedLength: z.number().int().positive(),
  hash: ChunkHash,
  nodes: z.array(NodeId).min(1).max(32),
});
export type ManifestChunk = z.infer<typeof ManifestChunk>;

export const Manifest = z.object({
  format: z.literal(MANIFEST_FORMAT),
  id: ContentId,
  version: z.number().int().positive(),
  name: z.string().min(1).max(255),
  type: z.string().max(255),
  size: z.number().int().nonnegative(),
  createdAt: z.number().int().nonnegative(),
  committedAt: z.number().int().nonnegative(),
  chunking: Chunking,
  chunks: z.array(ManifestChunk).max(1 << 20),
  nodes: z.array(NodeInfo).max(1024),
  tokens: z.object({ get: z.string().max(8192) }),
  stamps: z.object({ upload: z.string().max(8192), commit: z.string().max(8192) }),
  key: z.object({ secret: z.string().regex(/^[A-Za-z0-9_-]{43}$/) }),
  /** media only: the seek index built at upload */
  media: MediaIndex.optional(),
}).superRefine((m, ctx) => {
  let offset = 0;
  const known = new Set(m.nodes.map((n) => n.id));
  if (known.size !== m.nodes.length) ctx.addIssue({ code: 'custom', message: 'a node id is listed twice', path: ['nodes'] });
  m.chunks.forEach((c, i) => {
    if (c.index !== i || c.offset !== offset) ctx.addIssue({ code: 'custom', message: `chunk ${i} is out of order`, path: ['chunks', i] });
    // The sealed layout is fixed (iv || ciphertext || tag): any other length cannot decrypt.
    if (c.sealedLength !== c.length + SEAL_OVERHEAD) ctx.addIssue({ code: 'custom', message: `chunk ${i} has the wrong sealed length`, path: ['chunks', i, 'sealedLength'] });
    for (const n of c.nodes) if (!known.has(n)) ctx.addIssue({ code: 'custom', message: `chunk ${i} names unknown node ${n}`, path: ['chunks', i, 'nodes'] });
    if (new Set(c.nodes).size !== c.nodes.length) ctx.addIssue({ code: 'custom', message: `chunk ${i} names a node twice`, path: ['chunks', i, 'nodes'] });
    offset += c.length;
  });
  if (m.media && seekPastEnd(m.media, m.size) >= 0) ctx.addIssue({ code: 'custom', message: 'a seek point lies past the end', path: ['media', 'seek'] });
  if (offset !== m.size) ctx.addIssue({ code: 'custom', message: 'chunk lengths do not add up to the size', path: ['chunks'] });
});
export type Manifest = z.infer<typeof Manifest>;
