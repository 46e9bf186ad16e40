// What a provider may have open at once, and how long an upload may sit idle before its
// manager removes it: [vars] of the portal (wrangler.toml), each optional, defaults below. An
// open upload costs nodes the bytes of every chunk sent so far and a manager for as long as it
// lives, and nothing else ends an upload its uploader walked away from.
export const UPLOAD_LIMIT_DEFAULTS = {
  /** uploads a provider may have open (state `uploading`) at once */
  UPLOAD_QUOTA_UPLOADS: 64,
  /** the sum of the declared sizes of those uploads, in bytes: 4 TiB */
  UPLOAD_QUOTA_BYTES: 2 ** 42,
  /** an upload with no register, confirm or gateway progress for this long is removed: 24 h */
  UPLOAD_IDLE_SECONDS: 24 * 3600,
} as const;

export type UploadLimitVars = { [K in keyof typeof UPLOAD_LIMIT_DEFAULTS]?: string | number };

export interface UploadLimits { maxOpenUploads: number; maxOpenBytes: number; idleMs: number }

const warned = new Set<string>();

/** A var as a positive integer; a malformed one is reported once and its default used. */
function positive(env: UploadLimitVars, name: keyof typeof UPLOAD_LIMIT_DEFAULTS): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return UPLOAD_LIMIT_DEFAULTS[name];
  const n = typeof raw === 'number' ? raw : /^\d{1,16}$/.test(raw.trim()) ? Number(raw.trim()) : NaN;
  if (Number.isSafeInteger(n) && n > 0) return n;
  if (!warned.has(name)) {
    warned.add(name);
    console.error(`${name} = ${JSON.stringify(raw)} is not a positive integer; using ${UPLOAD_LIMIT_DEFAULTS[name]}`);
  }
  return UPLOAD_LIMIT_DEFAULTS[name];
}

export function uploadLimits(env: UploadLimitVars): UploadLimits {
  return {
    maxOpenUploads: positive(env, 'UPLOAD_QUOTA_UPLOADS'),
    maxOpenBytes: positive(env, 'UPLOAD_QUOTA_BYTES'),
    idleMs: positive(env, 'UPLOAD_IDLE_SECONDS') * 1000,
  };
}
