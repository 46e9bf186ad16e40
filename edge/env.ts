// Bindings of the edge Workers, as wrangler.toml declares them.
import type { NodeGate } from './lifecycle/node-gate.ts';
import type { Sweeper } from './lifecycle/sweeper.ts';
import type { ContentManager } from './manager/content-manager.ts';
import type { ClientAddressEnv } from './client-address.ts';
import type { UploadLimitVars } from './upload-limits.ts';
import type { DemandVars } from './demand-policy.ts';

/** UPLOAD_QUOTA_UPLOADS, UPLOAD_QUOTA_BYTES, UPLOAD_IDLE_SECONDS: see upload-limits.ts; CLIENT_ADDRESS_HEADER: client-address.ts */
export interface PortalEnv extends UploadLimitVars, ClientAddressEnv, DemandVars {
  DB: D1Database;
  MANAGER: DurableObjectNamespace<ContentManager>;
  /** Ed25519 PKCS#8 (base64url), a wrangler secret: signs tokens and stamps */
  SIGNING_KEY: string;
  /** matching raw public key (base64url), given to nodes and clients */
  SIGNING_PUBLIC_KEY: string;
  /** 32-byte key-encryption key (base64url), a wrangler secret: wraps content secrets at rest */
  KEK: string;
  /** operator credential, a wrangler secret */
  ADMIN_TOKEN: string;
  /** Rate Limiting bindings of the API, keyed by API token (hashed) and by client address */
  RATE_LIMIT_TOKEN?: RateLimit;
  RATE_LIMIT_ADDRESS?: RateLimit;
  /** "off" turns the API's rate limiting off (e.g. behind another limiter); anything else leaves it on */
  RATE_LIMIT?: string;
  /** one NodeGate per node: bounds the copies that run to and from it at once, and their bytes per second */
  GATE: DurableObjectNamespace<NodeGate>;
  /** the sweep's fan-out: walks contents in slices and wakes their managers */
  SWEEPER: DurableObjectNamespace<Sweeper>;
  /** seconds a down node keeps its copies before they count as lost (default 900) */
  DOWN_GRACE_SECONDS?: string;
  /** seconds without a signed report before a self-hosted node counts as failing (default 300) */
  REPORT_SILENCE_SECONDS?: string;
  /** failed health checks in a row before a node is down (default 2) */
  DOWN_AFTER_FAILURES?: string;
  /** seconds a chunk a node holds but nothing wants is kept before it is deleted (default 86400) */
  ORPHAN_GRACE_SECONDS?: string;
  /** seconds between two passes of the inventory reconciliation over every node (default 21600) */
  INVENTORY_EVERY_SECONDS?: string;
  /** seconds between two checks of every copy by every manager (default 86400) */
  VERIFY_EVERY_SECONDS?: string;
  /** copies that may run to or from one node at once (default 4), and their bytes per second (default 64 MiB) */
  MOVES_PER_NODE?: string;
  MOVE_BYTES_PER_SECOND?: string;
  /** seconds a manager that handed its content over keeps forwarding before it deletes its storage (default 600) */
  MANAGER_FORWARD_SECONDS?: string;
}

export interface NodeEnv extends ClientAddressEnv {
  BUCKET: R2Bucket;
  NODE_ID: string;
  SIGNING_PUBLIC_KEY: string;
  REGION?: string;
  /** Rate Limiting binding of /v1/probe, keyed by node and client address; absent: no limit */
  RATE_LIMIT_PROBE?: RateLimit;
}
