// The node's reports to its portal, signed with its key, at a steady interval and at once when
// it finds a damaged chunk: capacity, bytes held, free space, bytes served, its version. A
// report that does not get through is not fatal (the portal is told next time); the portal's
// answer carries the node's state, which is shown when it changes.
import type { CorruptChunk, DiskStore } from './disk-store.ts';
import { MAX_REPORTED_CORRUPT } from '../protocol/self-hosted/messages.ts';
import type { nodeSigner } from './portal-client.ts';

export interface Reporter { stop(): Promise<void>; corrupt(c: CorruptChunk): void; now(): Promise<void> }

export function startReporter(o: {
  portal: string; nodeId: string; store: DiskStore; signer: ReturnType<typeof nodeSigner>; version: string;
  served: () => number; everyMs: number; log: (line: string) => void;
}): Reporter {
  let pending: CorruptChunk[] = [];
  let state: string | null = null;
  let failing = false;
  let running: Promise<void> = Promise.resolve();
  const stopping = new AbortController();

  async function once(): Promise<void> {
    if (stopping.signal.aborted) return;
    const sent = pending.slice(0, MAX_REPORTED_CORRUPT);
    try {
      const r = await o.signer.report(o.portal, {
        n: o.nodeId, capacity: o.store.capacity, held: o.store.bytesHeld(), chunks: o.store.chunksHeld(),
        free: await o.store.freeBytes(), served: o.served(), version: o.version,
        corrupt: sent.map((c) => ({ hash: c.hash, content: c.content })),
      }, stopping.signal);
      pending = pending.slice(sent.length);
      if (failing) o.log('reports reach the portal again');
      failing = false;
      if (r.state !== state) o.log(`the portal has this node as ${r.state}`);
      state = r.state;
    } catch (err) {
      if (stopping.signal.aborted) return;
      if (!failing) o.log(`report not delivered (tried again in ${Math.round(o.everyMs / 1000)} s): ${(err as Error).message}`);
      failing = true;
    }
  }

  const run = () => (running = running.then(once));
  void run();
  const timer = setInterval(run, o.everyMs);
  timer.unref();
  return {
    corrupt(c) {
      pending.push(c);
      void run();
    },
    now: () => run(),
    async stop() {
      clearInterval(timer);
      stopping.abort();
      await running;
    },
  };
}
