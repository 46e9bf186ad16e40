// Unauthenticated liveness and speed endpoints. The probe answers a timed test download so
// clients can rank nodes; it streams, so a large probe never sits in memory. Anyone may ask
// PUBLIC_PROBE_BYTES; more needs a download token; and every probe counts against the client's
// budget where the platform keeps one (the Worker: its RATE_LIMIT_PROBE binding).
import { BunsanError } from '../../protocol/errors.ts';
import { MAX_PROBE_BYTES, PUBLIC_PROBE_BYTES } from '../../protocol/node-protocol.ts';
import { clientAddress, type ClientAddressEnv } from '../client-address.ts';
import { errorResponse } from '../http.ts';
import { requireGet, type NodeContext } from './auth.ts';

/** The binding counts per minute (wrangler.toml); a refused probe is told to wait that long. */
const PROBE_PERIOD_SECONDS = 60;

const BLOCK = 64 * 1024;
// Random bytes so no compressing middlebox makes the node look faster than it is. Made on first
// use: Workers refuse random generation at global scope.
let block: Uint8Array | null = null;

function probeBytes(raw: string | undefined): number {
  if (raw === undefined || !/^\d{1,9}$/.test(raw) || Number(raw) > MAX_PROBE_BYTES) {
    throw new BunsanError('bad_request', `bytes must be an integer 0-${MAX_PROBE_BYTES}`);
  }
  return Number(raw);
}

/**
 * A probe budget over a Rate Limiting binding, keyed by node and by the client address the
 * platform vouches for (edge/client-address.ts); a failing limiter lets probes through.
 */
export function limitedProbes(limiter: RateLimit, nodeId: string, env: ClientAddressEnv): (req: Request) => Promise<boolean> {
  return async (req) => {
    const address = clientAddress(req.headers, env) ?? 'unknown';
    try {
      return (await limiter.limit({ key: `probe:${nodeId}:${address}` })).success;
    } catch (err) {
      console.warn(`probe limiter failed: ${(err as Error).message}`);
      return true; // a guard, not a dependency
    }
  };
}

export async function probe(c: NodeContext): Promise<Response> {
  const n = probeBytes(c.req.query('bytes'));
  // Counted first, so that neither the bytes nor a token check come free past the budget.
  const budget = c.var.node.probeBudget;
  if (budget && !(await budget(c.req.raw))) {
    const res = errorResponse(new BunsanError('rate_limited', 'too many probes from this address; retry later', { retryAfter: PROBE_PERIOD_SECONDS }));
    res.headers.set('retry-after', String(PROBE_PERIOD_SECONDS));
    return res;
  }
  if (n > PUBLIC_PROBE_BYTES) {
    if (!c.req.header('authorization') && !c.req.query('t')) {
      throw new BunsanError('unauthorized', `a probe of more than ${PUBLIC_PROBE_BYTES} bytes needs a download token (?t= or Authorization)`);
    }
    await requireGet(c);
  }
  const headers = { 'content-type': 'application/octet-stream', 'content-length': String(n), 'cache-control': 'no-store' };
  // Hono routes HEAD here and drops the body; do not start a stream nobody will read.
  if (c.req.method === 'HEAD') return new Response(null, { headers });
  const data = (block ??= c.var.node.crypto.getRandomValues(new Uint8Array(BLOCK)));
  let sent = 0;
  const source = new ReadableStream<Uint8Array>({
    pull(ctrl) {
      if (sent >= n) return ctrl.close();
      const len = Math.min(BLOCK, n - sent);
      sent += len;
      ctrl.enqueue(data.slice(0, len)); // a copy: enqueued chunks may be transferred
    },
  });
  // The platform may need telling the length (workerd's FixedLengthStream) to send a real
  // Content-Length instead of chunked encoding.
  const body = c.var.node.fixedLength?.(source, n) ?? source;
  return new Response(body, { headers });
}

export function health(c: NodeContext): Response {
  return c.json(
    { ok: true, node: c.var.node.nodeId, region: c.var.node.region, time: c.var.node.now() },
    200,
    { 'cache-control': 'no-store' },
  );
}
