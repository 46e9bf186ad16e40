// Names shared by every node implementation (Worker over R2, self-hosted) and every client.
export const NODE_PATHS = {
  chunk: (hash: string) => `/v1/chunks/${hash}`,
  /** POST with a copy order (Authorization: Bearer): the node fetches the chunk from the order's source */
  copy: (hash: string) => `/v1/chunks/${hash}/copy`,
  check: '/v1/chunks/check',
  deleteBatch: '/v1/chunks/delete',
  probe: '/v1/probe',
  health: '/v1/health',
  inventory: '/v1/inventory',
  /** POST with a management token: bytes served to viewers per content since the last call */
  served: '/v1/served',
} as const;

/** Response header carrying the upload-stamp digest stored beside the chunk. */
export const STAMP_HEADER = 'bunsan-stamp';
/** Response header carrying the content id the chunk was stored for. */
export const CONTENT_HEADER = 'bunsan-content';
export const MAX_PROBE_BYTES = 8 * 1024 * 1024;
/**
 * The largest probe a node sends without a credential: the engine asks 32 KiB. Anything larger
 * costs the node real egress, so it needs a download token (of any content), `?t=` or Bearer.
 */
export const PUBLIC_PROBE_BYTES = 64 * 1024;

export const chunkUrl = (base: string, hash: string) => base.replace(/\/+$/, '') + NODE_PATHS.chunk(hash);
