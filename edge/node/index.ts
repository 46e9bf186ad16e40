// Entry point of a distribution node Worker (one deployment per region, see wrangler.toml): the
// node application over the R2 bucket bound as BUCKET.
import type { NodeEnv } from '../env.ts';
import { createNodeApp } from './app.ts';
import { COPY_TIMEOUT_MS, type NodeDeps } from './deps.ts';
import { limitedProbes } from './probe.ts';
import { r2Store } from './r2-store.ts';
import { ServedTally } from './tally.ts';

/**
 * What this isolate served since its first request (edge/node/tally.ts), per node id (one
 * Worker serves one node; tests run several in one isolate). Made on first use, because a
 * Worker's clock does not run while its module is being loaded.
 */
const tallies = new Map<string, ServedTally>();
const tallyOf = (node: string) => {
  let t = tallies.get(node);
  if (!t) tallies.set(node, (t = new ServedTally(Date.now())));
  return t;
};

/** The node's dependencies from a Worker's bindings; `over` lets tests change the clock or the deadline. */
export function workerDeps(env: NodeEnv, over: Partial<NodeDeps> = {}): NodeDeps {
  return {
    store: r2Store(env.BUCKET),
    nodeId: env.NODE_ID,
    signingPublicKey: env.SIGNING_PUBLIC_KEY,
    region: env.REGION ?? '',
    crypto,
    now: () => Date.now(),
    // Read at call time, so the global a test routes is the one used.
    fetch: (input, init) => fetch(input, init),
    copyTimeoutMs: COPY_TIMEOUT_MS,
    tally: tallyOf(env.NODE_ID),
    fixedLength: (body, n) => body.pipeThrough(new FixedLengthStream(n)),
    ...(env.RATE_LIMIT_PROBE ? { probeBudget: limitedProbes(env.RATE_LIMIT_PROBE, env.NODE_ID, env) } : {}),
    ...over,
  };
}

export default createNodeApp<NodeEnv>((env) => workerDeps(env));
