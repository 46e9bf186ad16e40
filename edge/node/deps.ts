// What a distribution node is given by its platform. The application (app.ts) reads no globals:
// the Worker builds these from its bindings (index.ts), the self-hosted node from its folder
// and flags (selfhost/), and tests from whatever they need.
import type { Context } from 'hono';
import type { CryptoLike } from '../../protocol/crypto-like.ts';
import type { ChunkStore } from './chunk-store.ts';
import type { ServedTally } from './tally.ts';

export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

export interface NodeDeps {
  store: ChunkStore;
  nodeId: string;
  /** the management tier's Ed25519 public key (raw, base64url): tokens are checked with it alone */
  signingPublicKey: string;
  region: string;
  crypto: CryptoLike;
  now: () => number;
  /** reaches other nodes, for copy orders */
  fetch: FetchLike;
  /** how long a copy order may wait on its source, all told */
  copyTimeoutMs: number;
  /** gives a streamed body of known length a real Content-Length where the platform needs telling */
  fixedLength?: (body: ReadableStream<Uint8Array>, length: number) => ReadableStream<Uint8Array>;
  /** told of every chunk body handed out, for the self-hosted node's reports */
  served?: (bytes: number) => void;
  /** counts bytes handed out to viewers per content, taken by the sweep (demand) */
  tally?: ServedTally;
  /** counts a probe against its client's budget, false once spent; absent: probes are not counted */
  probeBudget?: (req: Request) => Promise<boolean>;
}

export type NodeHono = { Variables: { node: NodeDeps } };
export type NodeContext = Context<NodeHono>;

export const COPY_TIMEOUT_MS = 30_000;
