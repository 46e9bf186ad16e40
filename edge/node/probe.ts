// Unauthenticated liveness and speed endpoints. The probe answers a timed test download so
// clients can rank nodes; it streams, so a large probe never sits in memory.
import { BunsanError } from '../../protocol/errors.ts';
import { MAX_PROBE_BYTES } from '../../protocol/node-protocol.ts';
import type { NodeContext } from './auth.ts';

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

export function probe(c: NodeContext): Response {
  const n = probeBytes(c.req.query('bytes'));
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
