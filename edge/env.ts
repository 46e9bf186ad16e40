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
  /** Rate Limiting bindings of the API, keyed by API token (hashed) and by client address */
  RATE_LIMIT_TOKEN?: RateLimit;
  RATE_LIMIT_ADDRESS?: RateLimit;
  /** "off" turns the API's rate limiting off (e.g. behind another limiter); anything else leaves it on */
  RATE_LIMIT?: string;
}

export interface NodeEnv {
  BUCKET: R2Bucket;
  NODE_ID: string;
  SIGNING_PUBLIC_KEY: string;
  REGION?: string;
}
