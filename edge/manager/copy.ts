// Making one new verified copy of a chunk on a node: the target fetches it from a source node
// with a single-use copy order and checks the hash itself, so moves do not pass through the
// manager; only where nodes cannot reach each other (or a node does not know copy orders) does
// the manager relay the bytes, read and verified on the way. Either way the target must then
// confirm that it holds the chunk under this content and stamp before the copy counts. Both
// nodes' gates bound how many copies run at once and how fast.
import { expiresIn, issueToken, TOKEN_TTL } from '../../protocol/tokens.ts';
import { gateOf } from '../lifecycle/node-gate.ts';
import { checkOnNode, copyOnNode, readChunk, writeChunk } from '../node-client.ts';
import type { DirNode } from './directory.ts';
import type { ManagerDeps } from './deps.ts';
import type { ChunkRow, ContentRecord } from './store.ts';

export type CopyOutcome =
  | { done: true; from: string; relayed: boolean }
  | { done: false; why: 'busy' | 'failed'; retryInMs?: number };

/** Holds a gate slot for the duration of `fn`; null (and when to try again) when the gate says wait. */
async function gated<T>(deps: ManagerDeps, node: string, bytes: number, fn: () => Promise<T>): Promise<{ value: T } | { retryInMs: number }> {
  const gate = gateOf(deps.env, node);
  const a = await gate.acquire(bytes);
  if (!a.ok) return { retryInMs: a.retryInMs };
  try {
    return { value: await fn() };
  } finally {
    await gate.release(a.lease).catch(() => {});
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
  const r = await gated(deps, to.id, c.size, async (): Promise<CopyOutcome> => {
    let relay = false;
    let busy: number | undefined;
    for (const from of sources.slice(0, 3)) {
      const sent = await gated(deps, from.id, c.size, async () => {
        const g = await issueToken(crypto, deps.key, { t: 'get', c: c.content, h: c.hash, exp: expiresIn(deps.now(), TOKEN_TTL.copy) });
        return copyOnNode(deps, to, { c: c.content, v: c.version, h: c.hash, s: c.stamp, z: c.size, src: from.url, g });
      });
      if ('retryInMs' in sent) {
        busy = sent.retryInMs;
        continue;
      }
      const res = sent.value;
      if (res.ok) return (await confirmed()) ? { done: true, from: from.id, relayed: false } : { done: false, why: 'failed' };
      if (res.from === 'target' && res.why !== 'unsupported') return { done: false, why: 'failed' };
      // The target cannot reach this source (or knows no copy orders): the manager may.
      relay = true;
    }
    if (relay) {
      for (const from of sources.slice(0, 3)) {
        const read = await readChunk(deps, from, c);
        if (!read.ok) continue;
        try {
          await writeChunk(deps, to, c, read.sealed);
        } catch {
          return { done: false, why: 'failed' };
        }
        return (await confirmed()) ? { done: true, from: from.id, relayed: true } : { done: false, why: 'failed' };
      }
    }
    return busy !== undefined ? { done: false, why: 'busy', retryInMs: busy } : { done: false, why: 'failed' };
  });
  return 'retryInMs' in r ? { done: false, why: 'busy', retryInMs: r.retryInMs } : r.value;
}
