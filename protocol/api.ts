// Request and response bodies of the portal API (/api/v1), shared by the edge, the CLI and the
// PWA. Every body is parsed at the boundary with these schemas; nothing trusts a raw object.
import { z } from 'zod';
import { ChunkHash, ContentId, NodeId } from './ids.ts';
import { NodeInfo } from './manifest.ts';
import { Chunking, DEFAULT_CHUNK, MAX_CHUNK, MIN_CHUNK } from './split.ts';

export const MAX_FILE_BYTES = 2 ** 45; // 32 TiB: comfortably within exact JS integers
export const MAX_REPLICAS = 8;
export const MAX_BATCH = 256;

const len = z.number().int().min(MIN_CHUNK).max(MAX_CHUNK);

export const OpenUploadRequest = z.object({
  name: z.string().min(1).max(255).refine((s) => !/[\u0000-\u001f/\\]/.test(s), 'name must be a plain file name'),
  type: z.string().max(255).regex(/^[\x20-\x7e]*$/).default('application/octet-stream'),
  size: z.number().int().nonnegative().max(MAX_FILE_BYTES),
  replicas: z.number().int().min(1).max(MAX_REPLICAS).default(2),
  chunking: z.discriminatedUnion('mode', [
    z.object({ mode: z.literal('regular'), size: len.default(DEFAULT_CHUNK) }),
    z.object({ mode: z.literal('irregular'), min: len, max: len }).refine((c) => c.min < c.max, 'min must be below max'),
  ]).default({ mode: 'regular', size: DEFAULT_CHUNK }),
}).strict();
export type OpenUploadRequest = z.input<typeof OpenUploadRequest>;

export const UploadState = z.enum(['uploading', 'committed', 'deleting']);

export const UploadSession = z.object({
  id: ContentId,
  version: z.number().int().positive(),
  state: UploadState,
  name: z.string(),
  type: z.string(),
  size: z.number().int().nonnegative(),
  replicas: z.number().int().positive(),
  chunking: Chunking,
  chunkCount: z.number().int().nonnegative(),
  stamp: z.string(),
  stampDigest: ChunkHash,
  secret: z.string(),
  /** indices of chunks whose every required replica is confirmed */
  stored: z.array(z.number().int().nonnegative()),
});
export type UploadSession = z.infer<typeof UploadSession>;

export const RegisterChunksRequest = z.object({
  chunks: z.array(z.object({
    index: z.number().int().nonnegative(),
    hash: ChunkHash,
    sealedLength: z.number().int().positive().max(MAX_CHUNK + 64),
  }).strict()).min(1).max(MAX_BATCH),
}).strict();
export type RegisterChunksRequest = z.infer<typeof RegisterChunksRequest>;

export const UploadTarget = z.object({ node: NodeId, url: z.string(), token: z.string() });
export type UploadTarget = z.infer<typeof UploadTarget>;

export const RegisterChunksResponse = z.object({
  chunks: z.array(z.object({ index: z.number().int(), hash: ChunkHash, targets: z.array(UploadTarget) })),
});
export type RegisterChunksResponse = z.infer<typeof RegisterChunksResponse>;

export const ConfirmRequest = z.object({ hashes: z.array(ChunkHash).min(1).max(MAX_BATCH) }).strict();
export const ConfirmResponse = z.object({
  stored: z.array(z.number().int()),
  missing: z.array(z.object({ index: z.number().int(), hash: ChunkHash, nodes: z.array(NodeId) })),
});
export type ConfirmResponse = z.infer<typeof ConfirmResponse>;

export const GatewayResult = z.object({
  next: z.number().int().nonnegative(),
  storedChunks: z.number().int().nonnegative(),
  peakBufferedBytes: z.number().int().nonnegative(),
});
export type GatewayResult = z.infer<typeof GatewayResult>;

export const CommitResponse = z.object({ id: ContentId, version: z.number().int(), committedAt: z.number().int() });
export type CommitResponse = z.infer<typeof CommitResponse>;

export const ContentSummary = z.object({
  id: ContentId, name: z.string(), type: z.string(), size: z.number().int(), version: z.number().int(),
  chunkCount: z.number().int(), replicas: z.number().int(), committedAt: z.number().int(),
});
export type ContentSummary = z.infer<typeof ContentSummary>;
export const ContentList = z.object({ contents: z.array(ContentSummary), cursor: z.string().nullable() });

export const RemoveResponse = z.object({ state: z.enum(['deleted', 'deleting']), pendingNodes: z.array(NodeId) });
export type RemoveResponse = z.infer<typeof RemoveResponse>;

export const ReplicaState = z.enum(['pending', 'stored', 'deleting']);
export const ContentInfo = ContentSummary.extend({
  state: UploadState,
  chunks: z.array(z.object({
    index: z.number().int(), offset: z.number().int(), length: z.number().int(), sealedLength: z.number().int(),
    hash: ChunkHash, replicas: z.array(z.object({ node: NodeId, state: ReplicaState })),
  })),
});
export type ContentInfo = z.infer<typeof ContentInfo>;

export const RegisterNodeRequest = z.object({
  id: NodeId,
  url: z.string().url().max(512),
  region: z.string().max(64).default(''),
  grade: z.number().int().min(0).max(9).default(1),
  weight: z.number().positive().max(1000).default(1),
  state: z.enum(['active', 'draining', 'retired']).default('active'),
}).strict();
export const NodeRecord = NodeInfo.extend({ weight: z.number(), state: z.enum(['active', 'draining', 'retired']) });
export type NodeRecord = z.infer<typeof NodeRecord>;
export const NodeList = z.object({ nodes: z.array(NodeRecord) });

export const CreateProviderRequest = z.object({ name: z.string().min(1).max(64) }).strict();
export const CreateProviderResponse = z.object({ id: z.string(), token: z.string() });

export const KeysResponse = z.object({ signingPublicKey: z.string() });

/** What a node answers to a batch check: which hashes it holds, and under which content/stamp. */
export const NodeCheckRequest = z.object({ hashes: z.array(ChunkHash).min(1).max(1000) }).strict();
export const NodeCheckResponse = z.object({
  chunks: z.array(z.object({ hash: ChunkHash, size: z.number().int(), content: ContentId, stamp: ChunkHash })),
});
export const NodeDeleteResponse = z.object({ deleted: z.array(ChunkHash) });
