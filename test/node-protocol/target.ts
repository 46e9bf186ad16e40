// What the node-protocol conformance suite needs of a platform. Each vitest project that runs
// the suite maps the module name `#node-target` to its own implementation: the Worker over R2
// inside workerd (test/edge/worker-node-target.ts) and the self-hosted node on a temporary
// folder, over real HTTP (test/selfhost/disk-node-target.ts). The suite itself is the same code.
import type { ChunkMeta } from '../../edge/node/chunk-store.ts';

export type Call = (path: string, init?: RequestInit) => Promise<Response>;

export interface PeerNode { id: string; url: string; call: Call }

export interface NodeTarget {
  kind: 'worker' | 'self-hosted';
  /** the node under test is `n1` in region `test-region` */
  call: Call;
  /** its base URL, as another node reaches it */
  url: string;
  /** the management tier's key pair the node trusts */
  signingKey: string;
  /** what the node keeps for a chunk, read from its storage directly; null when absent */
  peek(hash: string): Promise<ChunkMeta | null>;
  /** every stored chunk with its metadata, to show that a refused request changed nothing */
  snapshot(): Promise<string>;
  /** a second node of the same kind, `n2` */
  peer(): Promise<PeerNode>;
  /** a base URL whose requests `handle` answers: a hostile or broken copy source */
  fakeSource(handle: (req: Request) => Response | Promise<Response>): Promise<string>;
  /** a base URL where nothing answers */
  deadSource(): Promise<string>;
  /** the copy deadline the node under test was given (short, so a silent source is quick to test) */
  copyTimeoutMs: number;
}
