// Request and response bodies of the portal API (/api/v1), shared by the edge, the CLI and the
// PWA. Every body is parsed at the boundary with these schemas; nothing trusts a raw object.
import { z } from 'zod';
import { ChunkHash, ContentId, NodeId } from './ids.ts';
import { NodeState } from './lifecycle/node-state.ts';
import { NodeInfo, NodeUrl } from './manifest.ts';
import { MediaIndex } from './media/media-index.ts';
import { Chunking, DEFAULT_CHUNK, MAX_CHUNK, MIN_CHUNK } from './split.ts';
import { labelProblem } from './text.ts';

export const MAX_FILE_BYTES = 2 ** 45; // 32 TiB: comfortably within exact JS integers
export const MAX_REPLICAS = 8;
export const MAX_BATCH = 256;
/** A wandering content's period: long enough that moves stay a trickle, at most a year. */
export const WANDER_MIN_SECONDS = 60;
export const WANDER_MAX_SECONDS = 365 * 86_400;
const WanderSeconds = z.number().int().min(WANDER_MIN_SECONDS, `wanderSeconds must be at least ${WANDER_MIN_SECONDS}`)
  .max(WANDER_MAX_SECONDS, `wanderSeconds must be at most ${WANDER_MAX_SECONDS} (365 days)`);

const len = z.number().int().min(MIN_CHUNK).max(MAX_CHUNK);
export const Visibility = z.enum(['public', 'private']);
export type Visibility = z.infer<typeof Visibility>;
export const Placement = z.enum(['rendezvous', 'random']);
export type Placement = z.infer<typeof Placement>;
/** A node's security grade: 0 (anything) to 9 (the operator's most trusted nodes). */
export const Grade = z.number().int().min(0).max(9);
const EpochMs = z.number().int().nonnegative().max(8.64e15);
/** Text that others will read (a name, a label, a region): nothing in it may hide or reorder what it says. */
const Label = (what: string, min: number, max: number) => z.string().min(min).max(max).superRefine((s, ctx) => {
  const problem = labelProblem(s, what);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

/**
 * Where a content's manager lives: the platform's location hints (western/eastern North America,
 * South America, western/eastern Europe, Asia-Pacific, Oceania, Africa, Middle East).
 */
export const ManagerRegion = z.enum(['wnam', 'enam', 'sam', 'weur', 'eeur', 'apac', 'oc', 'afr', 'me']);
export type ManagerRegion = z.infer<typeof ManagerRegion>;

export const OpenUploadRequest = z.object({
  name: Label('name', 1, 255).refine((s) => !/[/\\]/.test(s), 'name must be a plain file name'),
  type: z.string().max(255).regex(/^[\x20-\x7e]*$/).default('application/octet-stream'),
  size: z.number().int().nonnegative().max(MAX_FILE_BYTES),
  replicas: z.number().int().min(1).max(MAX_REPLICAS).default(2),
  chunking: z.discriminatedUnion('mode', [
    z.object({ mode: z.literal('regular'), size: len.default(DEFAULT_CHUNK) }),
    z.object({ mode: z.literal('irregular'), min: len, max: len }).refine((c) => c.min < c.max, 'min must be below max'),
  ]).default({ mode: 'regular', size: DEFAULT_CHUNK }),
  /** private: the manifest (and so the key) is released only to the owner, the operator, or a grant holder */
  visibility: Visibility.default('public'),
  /** time window (ms since the epoch) signed into the upload stamp: no keys before or after it */
  publishAt: EpochMs.optional(),
  expireAt: EpochMs.optional(),
  /** chunks go only to nodes whose security grade is at least this */
  minGrade: Grade.default(0),
  placement: Placement.default('rendezvous'),
  /** wandering placement: every chunk moves to other nodes about once per this many seconds */
  wanderSeconds: WanderSeconds.optional(),
  /** where the content's manager is made (default: near the request, where the platform says) */
  region: ManagerRegion.optional(),
}).strict().refine((r) => r.publishAt === undefined || r.expireAt === undefined || r.publishAt < r.expireAt, {
  message: 'publishAt must be before expireAt', path: ['expireAt'],
}).refine((r) => r.wanderSeconds === undefined || r.placement !== 'random', {
  message: 'a wandering content chooses its own nodes: wanderSeconds cannot go with random placement', path: ['wanderSeconds'],
});
export type OpenUploadRequest = z.input<typeof OpenUploadRequest>;
export type OpenUploadParsed = z.output<typeof OpenUploadRequest>;

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
  // Optional so that answers of older portals still parse: absent means public, no window,
  // grade 0, rendezvous placement.
  visibility: Visibility.optional(),
  publishAt: EpochMs.optional(),
  expireAt: EpochMs.optional(),
  minGrade: Grade.optional(),
  placement: Placement.optional(),
  wanderSeconds: z.number().int().positive().optional(),
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

/** A commit body's limit: room for a full media index (MAX_SEEK_POINTS points) as JSON. */
export const MAX_COMMIT_BYTES = 2 * 1024 * 1024;
/** The uploader's media index travels with the commit; without one the edge's (gateway mode) is kept. */
export const CommitRequest = z.object({ media: MediaIndex.optional() }).strict();
export type CommitRequest = z.infer<typeof CommitRequest>;

export const CommitResponse = z.object({ id: ContentId, version: z.number().int(), committedAt: z.number().int() });
export type CommitResponse = z.infer<typeof CommitResponse>;

export const ContentSummary = z.object({
  id: ContentId, name: z.string(), type: z.string(), size: z.number().int(), version: z.number().int(),
  chunkCount: z.number().int(), replicas: z.number().int(), committedAt: z.number().int(),
  /** absent means public */
  visibility: Visibility.optional(),
});
export type ContentSummary = z.infer<typeof ContentSummary>;
export const ContentList = z.object({ contents: z.array(ContentSummary), cursor: z.string().nullable() });

export const RemoveResponse = z.object({ state: z.enum(['deleted', 'deleting']), pendingNodes: z.array(NodeId) });
export type RemoveResponse = z.infer<typeof RemoveResponse>;

export const ReplicaState = z.enum(['pending', 'stored', 'deleting']);
const Count = z.number().int().nonnegative();
export const ContentInfo = ContentSummary.extend({
  state: UploadState,
  /** the manager's reconciling of copies: when it next looks, why, and whether it is stuck */
  upkeep: z.object({
    due: z.number().int().nullable(), reason: z.string(), passUnderWay: z.boolean(), stalled: z.number().int(),
  }).optional(),
  /** media only: the seek index built at upload */
  media: MediaIndex.optional(),
  /** demand over sliding windows (claim 4): bytes/s now, and viewers, opens and bytes per window */
  demand: z.object({
    rate: z.number().nonnegative(),
    windows: z.array(z.object({ window: z.string(), seconds: Count, viewers: Count, opens: Count, bytes: Count })),
    regions: z.record(z.string(), z.number().nonnegative()),
  }).optional(),
  /** copies per chunk: the upload's base, the current (demand) count and its ceiling, and why */
  copies: z.object({
    base: Count, current: Count, ceiling: Count, span: Count, reason: z.string(),
    changes: z.array(z.object({ at: z.number().int(), from: Count, to: Count, reason: z.string() })),
  }).optional(),
  /** a wandering content's period (absent: its copies stay where they are) */
  wanderSeconds: z.number().int().positive().optional(),
  /** the manager object in charge and where it was placed (null: no hint); absent from older portals */
  manager: z.object({ name: z.string(), region: ManagerRegion.nullable() }).optional(),
  chunks: z.array(z.object({
    index: z.number().int(), offset: z.number().int(), length: z.number().int(), sealedLength: z.number().int(),
    hash: ChunkHash, replicas: z.array(z.object({ node: NodeId, state: ReplicaState })),
  })),
});
export type ContentInfo = z.infer<typeof ContentInfo>;

const Region = z.string().max(64).regex(/^[A-Za-z0-9_.-]*$/, 'region is letters, digits, - _ .');
const Capacity = z.number().int().positive().max(2 ** 53 - 1);

/**
 * Registers a node the operator vouches for (the local stack's own nodes, a first deployment):
 * it starts `active` (or `joining`). Its attributes can be changed later; its state only through
 * drain, undrain and retire, which keep the copies whole.
 */
export const RegisterNodeRequest = z.object({
  id: NodeId,
  url: NodeUrl,
  region: Region.default(''),
  grade: Grade.default(1),
  weight: z.number().positive().max(1000).default(1),
  capacity: Capacity.nullable().optional(),
  /** bytes per second it can deliver (absent: the network's default) */
  egress: Capacity.nullable().optional(),
  /** `standby`: a mirror of the standby pool, woken by demand (claim 6) */
  state: z.enum(['active', 'joining', 'standby']).optional(),
}).strict();
/** Adds a node by its URL: the portal checks that it speaks the node protocol and takes our tokens, then it joins. */
export const AddNodeRequest = z.object({
  url: NodeUrl,
  id: NodeId.optional(),
  region: Region.default(''),
  grade: Grade.default(1),
  weight: z.number().positive().max(1000).default(1),
  capacity: Capacity.optional(),
  egress: Capacity.optional(),
  /** joins the standby pool of mirrors instead of taking its share now */
  standby: z.boolean().default(false),
}).strict();
export type AddNodeRequest = z.input<typeof AddNodeRequest>;
export const RetireRequest = z.object({ force: z.boolean().default(false) }).strict();

export const NodeRecord = NodeInfo.extend({ weight: z.number(), state: NodeState });
export type NodeRecord = z.infer<typeof NodeRecord>;
export const NodeList = z.object({ nodes: z.array(NodeRecord) });

/** A node as the operator sees it: its state and why, what it holds, its health, the copies still owed to and from it. */
export const NodeStatus = NodeRecord.extend({
  stateReason: z.string(),
  stateSince: z.number().int(),
  capacity: z.number().int().nullable(),
  chunksHeld: Count,
  bytesHeld: Count,
  health: z.object({
    lastSeenAt: z.number().int().nullable(),
    lastCheckAt: z.number().int().nullable(),
    failures: Count,
    lastError: z.string().nullable(),
  }),
  backlog: z.object({ copiesIn: Count, copiesOut: Count, deletes: Count, checks: Count, contents: Count }),
  orphans: Count,
  /** demand: bytes/s it can deliver and delivered (smoothed), whether it runs hot, whether it is a standby mirror */
  egress: z.number().nonnegative().optional(),
  load: z.number().nonnegative().optional(),
  hot: z.boolean().optional(),
  mirror: z.boolean().optional(),
});
export type NodeStatus = z.infer<typeof NodeStatus>;
export const NodeStatusList = z.object({ nodes: z.array(NodeStatus) });

/** Who holds a chunk: by the registry's placement index, and (asked for) by every node on the list. */
export const ChunkHolders = z.object({
  hash: ChunkHash,
  registry: z.array(z.object({ content: ContentId, node: NodeId, bytes: Count })),
  nodes: z.array(z.object({
    node: NodeId,
    held: z.boolean(),
    content: ContentId.optional(),
    stamp: ChunkHash.optional(),
    size: Count.optional(),
    error: z.string().optional(),
  })).optional(),
});
export type ChunkHolders = z.infer<typeof ChunkHolders>;

export const SweepReport = z.object({
  at: z.number().int(),
  checked: Count,
  changes: z.array(z.object({ node: NodeId, from: z.string(), to: z.string(), reason: z.string() })),
  tasks: Count,
});
/** The operator moves a content's manager to another region. */
export const MoveManagerRequest = z.object({ region: ManagerRegion, reason: z.string().max(200).optional() }).strict();
export const MoveManagerResponse = z.object({
  moved: z.boolean(), from: z.string(), to: z.string(), region: ManagerRegion.nullable(), reason: z.string(),
});
export type MoveManagerResponse = z.infer<typeof MoveManagerResponse>;
export const RebuildResponse = z.object({ nodes: z.array(NodeId) });

export const CreateProviderRequest = z.object({ name: Label('name', 1, 64) }).strict();
export const CreateProviderResponse = z.object({ id: z.string(), token: z.string() });

export const KeysResponse = z.object({ signingPublicKey: z.string() });

/** What a node answers to a batch check: which hashes it holds, and under which content/stamp. */
export const NodeCheckRequest = z.object({ hashes: z.array(ChunkHash).min(1).max(1000) }).strict();
export const NodeCheckResponse = z.object({
  chunks: z.array(z.object({ hash: ChunkHash, size: z.number().int(), content: ContentId, stamp: ChunkHash })),
});
export const NodeDeleteResponse = z.object({ deleted: z.array(ChunkHash) });

/** Grants: a signed, expiring, revocable permission to fetch one private content's manifest. */
export const CreateGrantRequest = z.object({
  ttlSeconds: z.number().int().min(1).max(366 * 24 * 3600),
  label: z.string().max(64).regex(/^[\x20-\x7e]*$/).optional(),
}).strict();
export const GrantId = z.string().regex(/^[0-9a-f]{32}$/, 'grant id is 32 hex digits');
export const GrantResponse = z.object({ id: GrantId, grant: z.string(), expiresAt: z.number().int() });
export type GrantResponse = z.infer<typeof GrantResponse>;
export const RevokeGrantResponse = z.object({ id: GrantId, revokedAt: z.number().int() });
export type RevokeGrantResponse = z.infer<typeof RevokeGrantResponse>;

/**
 * A client's report of a chunk a node served wrong (POST /contents/:id/reports). Anyone holding
 * the manifest may send one, with no credential, so the body is strict and small; the portal
 * checks it names a replica it knows and logs a `chunk-report` event the manager can act on.
 */
export const MAX_REPORT_BYTES = 1024;
export const ReportCode = z.enum(['integrity_failed', 'stamp_mismatch']);
export const ChunkReportRequest = z.object({
  index: z.number().int().nonnegative().max(1 << 20),
  hash: ChunkHash,
  node: NodeId,
  code: ReportCode,
}).strict();
export type ChunkReportRequest = z.infer<typeof ChunkReportRequest>;
/** `recorded` is false when the same report arrived within the last minute (logged once). */
export const ChunkReportResponse = z.object({ recorded: z.boolean() });
/**
 * What the manager found when it looked at a reported replica itself: `healthy` (the node's copy
 * verifies; the report changed nothing), `repaired` (a verified copy replaced it on the same node),
 * `moved` (the bad copy was dropped and a verified copy placed on `target`), `degraded` (dropped,
 * no node took a new copy yet), `unrecoverable` (no replica verifies: the content must be uploaded
 * again), `unreachable` (the node did not answer), `skipped` (no longer a live replica).
 */
export const AuditOutcome = z.enum(['healthy', 'repaired', 'moved', 'degraded', 'unrecoverable', 'unreachable', 'skipped']);
export type AuditOutcome = z.infer<typeof AuditOutcome>;
export const ReplicaAudit = z.object({
  index: z.number().int(), hash: ChunkHash, node: NodeId, queuedAt: z.number().int(), attempts: z.number().int(),
  outcome: AuditOutcome.nullable(), doneAt: z.number().int().nullable(), target: NodeId.nullable(),
});
export type ReplicaAudit = z.infer<typeof ReplicaAudit>;
export const ChunkReportList = z.object({
  reports: z.array(ChunkReportRequest.extend({ at: z.number().int() })),
  /** the manager's audits of reported replicas, newest first */
  audits: z.array(ReplicaAudit),
});
export type ChunkReportList = z.infer<typeof ChunkReportList>;
