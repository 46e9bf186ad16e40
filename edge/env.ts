// Bindings of the edge Workers, as wrangler.toml declares them.
import type { ContentManager } from './manager/content-manager.ts';

export interface PortalEnv {
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
}

export interface NodeEnv {
  BUCKET: R2Bucket;
  NODE_ID: string;
  SIGNING_PUBLIC_KEY: string;
  REGION?: string;
}
