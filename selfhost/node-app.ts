// The node application (edge/node/app.ts, the same code the Worker runs) with the self-hosted
// platform handed in: a folder on disk for storage, Node's WebCrypto, clock and fetch.
import { webcrypto } from 'node:crypto';
import { createNodeApp } from '../edge/node/app.ts';
import { COPY_TIMEOUT_MS, type FetchLike, type NodeDeps } from '../edge/node/deps.ts';
import type { CryptoLike } from '../protocol/crypto-like.ts';
import type { DiskStore } from './disk-store.ts';
import { ServedTally } from '../edge/node/tally.ts';

export interface SelfHostedAppOptions {
  store: DiskStore;
  nodeId: string;
  signingPublicKey: string;
  region?: string;
  fetch?: FetchLike;
  copyTimeoutMs?: number;
  /** counts chunk bytes handed out, for reports */
  served?: (bytes: number) => void;
}

export function createSelfHostedApp(o: SelfHostedAppOptions) {
  const deps: NodeDeps = {
    store: o.store,
    nodeId: o.nodeId,
    signingPublicKey: o.signingPublicKey,
    region: o.region ?? '',
    crypto: webcrypto as unknown as CryptoLike,
    now: () => Date.now(),
    fetch: o.fetch ?? ((input, init) => fetch(input, init)),
    copyTimeoutMs: o.copyTimeoutMs ?? COPY_TIMEOUT_MS,
    served: o.served,
    tally: new ServedTally(Date.now()),
  };
  return createNodeApp(() => deps);
}
