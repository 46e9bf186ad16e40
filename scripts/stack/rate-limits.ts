// The portal's Rate Limiting bindings for the local stack, as wrangler.toml declares them for the
// deployment. Per minute; BUNSAN_RATE_LIMIT_PER_TOKEN and BUNSAN_RATE_LIMIT_PER_ADDRESS change
// them. The defaults leave room for the heaviest system tests (1024-chunk uploads, parallel
// batches), which stay far below them.
export const DEFAULT_RATE_LIMITS = { perToken: 6000, perAddress: 12000 } as const;

function limitFrom(raw: string | undefined, fallback: number, name: string): number {
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer`);
  return n;
}

export function rateLimitBindings(env = process.env) {
  const perToken = limitFrom(env.BUNSAN_RATE_LIMIT_PER_TOKEN, DEFAULT_RATE_LIMITS.perToken, 'BUNSAN_RATE_LIMIT_PER_TOKEN');
  const perAddress = limitFrom(env.BUNSAN_RATE_LIMIT_PER_ADDRESS, DEFAULT_RATE_LIMITS.perAddress, 'BUNSAN_RATE_LIMIT_PER_ADDRESS');
  return {
    RATE_LIMIT_TOKEN: { namespace_id: '5001', simple: { limit: perToken, period: 60 } },
    RATE_LIMIT_ADDRESS: { namespace_id: '5002', simple: { limit: perAddress, period: 60 } },
  };
}
