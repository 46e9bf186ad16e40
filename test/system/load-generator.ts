// A bounded load generator on loopback: simulated viewers, each with its own grant and region,
// open one content's manifest and fetch its chunks' ciphertext straight from the nodes the
// manifest lists, at most `bytesPerSecond` together, until stopped. It counts what each node
// served, so a test can see the load spread. (The bytes are not decrypted: this is load, and the
// engine's correctness is tested elsewhere.)
import type { Manifest } from '../../protocol/manifest.ts';

export interface Viewer { grant: string; region: string }

export interface Sample {
  /** bytes fetched per node */
  bytes: Map<string, number>;
  /** per chunk index, the nodes it was fetched from */
  from: Map<number, Set<string>>;
  /** views (manifests opened and read through) */
  views: number;
}

export interface LoadGenerator {
  /** what was fetched since the last `take` */
  take(): Sample;
  readonly total: number;
  readonly errors: string[];
  stop(): Promise<void>;
}

/** What a failed view is charged against the byte budget. */
const FAILED_VIEW_BYTES = 64 * 1024;

export function generateLoad(portalUrl: string, id: string, viewers: Viewer[], bytesPerSecond: number, concurrency = 4): LoadGenerator {
  let stopped = false;
  let total = 0;
  const fresh = (): Sample => ({ bytes: new Map(), from: new Map(), views: 0 });
  let sample = fresh();
  const errors: string[] = [];
  // A token bucket: each fetch waits until the bytes it will take are within the budget.
  let budgetAt = Date.now();
  const wait = async (bytes: number) => {
    budgetAt = Math.max(budgetAt, Date.now()) + (bytes * 1000) / bytesPerSecond;
    const ms = budgetAt - Date.now();
    if (ms > 0) await new Promise((r) => setTimeout(r, ms));
  };
  let turn = 0;
  const loop = async () => {
    while (!stopped) {
      const v = viewers[turn++ % viewers.length];
      try {
        const res = await fetch(`${portalUrl}/api/v1/contents/${id}/manifest`, {
          headers: { authorization: `Bearer ${v.grant}`, 'x-bunsan-viewer-region': v.region }, signal: AbortSignal.timeout(10_000),
        });
        if (!res.ok) throw new Error(`manifest: HTTP ${res.status} ${await res.text()}`);
        const m = (await res.json()) as Manifest;
        const urls = new Map(m.nodes.map((n) => [n.id, n.url]));
        for (const c of m.chunks) {
          if (stopped) break;
          // The viewer's region first, as the engine ranks; among those, any one.
          const near = c.nodes.filter((n) => m.nodes.find((x) => x.id === n)?.region === v.region);
          const from = near.length ? near : c.nodes;
          const node = from[Math.floor(Math.random() * from.length)];
          await wait(c.sealedLength);
          const r = await fetch(`${urls.get(node)!.replace(/\/+$/, '')}/v1/chunks/${c.hash}`, {
            headers: { authorization: `Bearer ${m.tokens.get}` }, signal: AbortSignal.timeout(10_000),
          });
          const body = new Uint8Array(await r.arrayBuffer());
          if (!r.ok) throw new Error(`chunk ${c.index} from ${node}: HTTP ${r.status}`);
          total += body.byteLength;
          sample.bytes.set(node, (sample.bytes.get(node) ?? 0) + body.byteLength);
          sample.from.set(c.index, (sample.from.get(c.index) ?? new Set()).add(node));
        }
        sample.views++;
      } catch (err) {
        if (!stopped) errors.push((err as Error).message);
        // A failed view costs from the same budget as a chunk, so failures cannot spin the loop.
        await wait(FAILED_VIEW_BYTES);
      }
    }
  };
  const running = Promise.all(Array.from({ length: concurrency }, loop));
  return {
    take() {
      const s = sample;
      sample = fresh();
      return s;
    },
    get total() { return total; },
    errors,
    async stop() {
      stopped = true;
      await running;
    },
  };
}
