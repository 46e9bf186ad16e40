// Making one new verified copy of a chunk on a node: the target fetches it from a source node
// with a single-use copy order and checks the hash itself, so moves do not pass through the
// manager; only where nodes cannot reach each other (or a node does not know copy orders) does
// the manager relay the bytes, read and verified on the way. Either way the target must then
// confirm that it holds the chunk under this content and stamp before the copy counts. The
// gates of both nodes bound how many copies run at once and how fast.
import { expiresIn, issueToken, TOKEN_TTL } from '../../protocol/tokens.ts';
import { gateOf } from '../lifecycle/node-gate.ts';
import { checkOnNode, copyOnNode, readChunk, writeChunk, type CopyResult } from '../node-client.ts';
import type { DirNode } from './directory.ts';
import type { ManagerDeps } from './deps.ts';
import type { ChunkRow, ContentRecord } from './store.ts';

export type CopyOutcome =
  | { done: true; from: string; relayed: boolean }
  | { done: false; why: 'busy' | 'failed'; retryInMs?: number };

/**
 * Holds a slot at both nodes' gates for the duration of `fn`, or says when to try again. The
 * gates are taken in node id order and given back at once when the second is full: copies that
 * run both ways between two nodes never hold one gate each and wait on each other.
 */
async function gatedPair<T>(deps: ManagerDeps, a: string, b: string, bytes: number, fn: () => Promise<T>): Promise<{ value: T } | { retryInMs: number }> {
  const [first, second] = [gateOf(deps.env, a < b ? a : b), gateOf(deps.env, a < b ? b : a)];
  const one = await first.acquire(bytes);
  if (!one.ok) return { retryInMs: one.retryInMs };
  try {
    const two = await second.acquire(bytes);
    if (!two.ok) return { retryInMs: two.retryInMs };
    try {
      return { value: await fn() };
    } finally {
      await second.release(two.lease).catch(() => {});
    }
  } finally {
    await first.release(one.lease).catch(() => {});
  }
}

export async function copyChunk(
  deps: ManagerDeps, record: ContentRecord, chunk: ChunkRow, to: DirNode, sources: DirNode[],
): Promise<CopyOutcome> {
  const c = { content: record.id, version: record.version, stamp: record.stampDigest, hash: chunk.hash!, size: chunk.sealed_len! };
  const confirmed = async () => {
    const held = await checkOnNode(deps, to, record.id, [c.hash]).catch(() => []);
    return held.some((h) => h.hash === c.hash && h.content === c.content && h.stamp === c.stamp && h.size === c.size);
  };
  const order = async (from: DirNode): Promise<CopyResult> => {
    const g = await issueToken(crypto, deps.key, { t: 'get', c: c.content, h: c.hash, exp: expiresIn(deps.now(), TOKEN_TTL.copy) });
    return copyOnNode(deps, to, { c: c.content, v: c.version, h: c.hash, s: c.stamp, z: c.size, src: from.url, g });
  };
  /** The manager carries the bytes itself: read and verified from the source, written to the target. */
  const relay = async (from: DirNode): Promise<CopyOutcome | null> => {
    const read = await readChunk(deps, from, c);
    if (!read.ok) return null;
    try {
      await writeChunk(deps, to, c, read.sealed);
    } catch {
      return { done: false, why: 'failed' };
    }
    return (await confirmed()) ? { done: true, from: from.id, relayed: true } : { done: false, why: 'failed' };
  };

  let busy: number | undefined;
  for (const from of sources.slice(0, 3)) {
    const r = await gatedPair(deps, to.id, from.id, c.size, async (): Promise<CopyOutcome | null> => {
      const res = await order(from);
      if (res.ok) return (await confirmed()) ? { done: true, from: from.id, relayed: false } : { done: false, why: 'failed' };
      if (res.from === 'target' && res.why !== 'unsupported') return { done: false, why: 'failed' };
      // The target cannot reach this source, or knows no copy orders: the manager may.
      return relay(from);
    });
    if ('retryInMs' in r) {
      busy = Math.min(busy ?? Infinity, r.retryInMs);
      continue;
    }
    if (r.value) {
      if (!r.value.done && r.value.why === 'failed') console.warn(`copy of ${c.hash.slice(0, 12)} to ${to.id} from ${from.id} failed`);
      return r.value;
    }
    // This source's copy did not verify: the next one.
  }
  if (busy !== undefined) return { done: false, why: 'busy', retryInMs: busy };
  console.warn(`copy of ${c.hash.slice(0, 12)} to ${to.id} failed: no source of ${sources.map((s) => s.id).join(', ') || 'none'} served it`);
  return { done: false, why: 'failed' };
}
