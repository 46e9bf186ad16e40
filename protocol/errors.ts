// One error type for the whole product. Every failure carries a stable machine code that
// clients branch on; the edge turns it into a JSON envelope, the CLI into a one-line reason.

export const ERROR_STATUS = {
  bad_request: 400,
  bad_json: 400,
  invalid_body: 400,
  invalid_hash: 400,
  hash_mismatch: 400,
  unauthorized: 401,
  token_invalid: 401,
  token_expired: 401,
  forbidden: 403,
  wrong_audience: 403,
  grant_revoked: 403,
  not_published: 403,
  quota_exceeded: 403,
  not_found: 404,
  content_not_found: 404,
  chunk_not_found: 404,
  node_not_found: 404,
  upload_not_found: 404,
  grant_not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  not_committed: 409,
  upload_incomplete: 409,
  content_expired: 410,
  payload_too_large: 413,
  unsupported_media_type: 415,
  range_not_satisfiable: 416,
  rate_limited: 429,
  not_enough_nodes: 503,
  content_unavailable: 503,
  node_unreachable: 502,
  /** a content's manager (or the one it hands over to) did not answer in time */
  manager_unreachable: 502,
  integrity_failed: 502,
  stamp_mismatch: 502,
  chunk_unavailable: 502,
  internal: 500,
  /** a node found a chunk it holds damaged (it no longer serves it) */
  chunk_corrupt: 500,
  /** a node is full: its capacity reached or its disk out of space; nothing was stored */
  insufficient_storage: 507,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export interface ErrorEnvelope {
  error: { code: ErrorCode; message: string; details?: unknown };
}

export class BunsanError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details?: unknown;

  constructor(code: ErrorCode, message: string, details?: unknown) {
    super(message);
    this.name = 'BunsanError';
    this.code = code;
    this.status = ERROR_STATUS[code];
    this.details = details;
  }

  toEnvelope(): ErrorEnvelope {
    const error: ErrorEnvelope['error'] = { code: this.code, message: this.message };
    if (this.details !== undefined) error.details = this.details;
    return { error };
  }
}

export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.hasOwn(ERROR_STATUS, code);
}

/** Rebuilds a BunsanError from an envelope a server sent, so callers see one error type. */
export function fromEnvelope(status: number, body: unknown): BunsanError {
  const e = (body as ErrorEnvelope | undefined)?.error;
  if (e && isErrorCode(e.code) && typeof e.message === 'string') {
    return new BunsanError(e.code, e.message, e.details);
  }
  const code: ErrorCode = status === 404 ? 'not_found' : status >= 500 ? 'node_unreachable' : 'bad_request';
  return new BunsanError(code, `HTTP ${status}`);
}
