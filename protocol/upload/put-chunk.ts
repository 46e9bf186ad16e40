// Sending one sealed chunk to one node with its upload token. Shared by the CLI's direct mode,
// the edge gateway and the browser uploader. A node that already holds it answers 200.
import type { UploadTarget } from '../api.ts';
import { BunsanError, fromEnvelope } from '../errors.ts';
import { chunkUrl } from '../node-protocol.ts';

export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

/**
 * How long one PUT may take: a fixed allowance for a slow start plus the body at a slow link's
 * pace (256 KiB/s). A node that has not answered by then is given up on for this attempt.
 */
export const putDeadlineMs = (bytes: number) => 30_000 + Math.ceil(bytes / 262_144) * 1000;

export async function putChunk(fetch: FetchLike, target: UploadTarget, hash: string, sealed: Uint8Array, attempts = 3): Promise<void> {
  let last: BunsanError | null = null;
  for (let a = 0; a < attempts; a++) {
    const signal = AbortSignal.timeout(putDeadlineMs(sealed.length));
    try {
      const res = await fetch(chunkUrl(target.url, hash), {
        method: 'PUT',
        headers: { authorization: `Bearer ${target.token}`, 'content-type': 'application/octet-stream' },
        body: sealed as BodyInit,
        signal,
      });
      if (res.ok) {
        // Read the small answer to the end: cancelling it would make the client drop the
        // connection instead of reusing it for the next chunk.
        await res.arrayBuffer();
        return;
      }
      const body = await res.json().catch(() => null);
      last = fromEnvelope(res.status, body);
      if (res.status < 500) throw last; // the node refused on the merits: retrying cannot help
    } catch (err) {
      if (err instanceof BunsanError && err === last && err.status < 500) throw err;
      last = err instanceof BunsanError ? err
        : new BunsanError('node_unreachable', `node ${target.node}: ${signal.aborted ? `no answer within ${putDeadlineMs(sealed.length) / 1000} s` : (err as Error).message}`);
    }
  }
  throw last ?? new BunsanError('node_unreachable', `node ${target.node} did not take chunk ${hash}`);
}
