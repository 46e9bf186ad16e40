// The shared engine as the CLI runs it (and the benchmark, so it measures what users get): the
// engine session (protocol/engine/session.ts) with the node history in the state folder, a
// probe of nodes it knows nothing recent about, the user's --prefer and --exclude, the
// machine's memory as the device hint, and chunk reports sent to the portal. `finish` saves the
// history and gives pending reports a moment.
import { totalmem } from 'node:os';
import type { ApiClient } from '../protocol/api-client.ts';
import type { CryptoLike } from '../protocol/crypto-like.ts';
import type { EngineEvent } from '../protocol/engine/events.ts';
import { engineSession, type SessionDownload } from '../protocol/engine/session.ts';
import { BunsanError } from '../protocol/errors.ts';
import { NodeId } from '../protocol/ids.ts';
import type { Manifest } from '../protocol/manifest.ts';
import { fileHistory } from './node-history.ts';

export interface CliEngineInput {
  manifest: Manifest;
  publicKey: CryptoKey;
  crypto: CryptoLike;
  api: Pick<ApiClient, 'report'>;
  /** the state folder: node-history.json lives there */
  home: string;
  prefer?: string[];
  exclude?: string[];
  onEvent?: (e: EngineEvent) => void;
  /** the manifest again, fresh from the portal: copies may move during a long download */
  refresh?: () => Promise<Manifest>;
}

/** "n1,n2" → ['n1', 'n2'], each a valid node id. */
export function nodeList(flag: string | boolean | undefined, name: string): string[] {
  if (flag === undefined || flag === false) return [];
  const ids = String(flag).split(',').map((s) => s.trim()).filter(Boolean);
  for (const id of ids) if (!NodeId.safeParse(id).success) throw new BunsanError('bad_request', `--${name}: "${id}" is not a node id`);
  return ids;
}

/** One run of `bunsan get` is one session: the file is read once, and written when it ends. */
export function cliEngine(input: CliEngineInput): SessionDownload {
  const session = engineSession({
    crypto: input.crypto, fetch: (u, i) => fetch(u, i), now: () => Date.now(),
    history: fileHistory(input.home),
    device: { memoryGiB: totalmem() / 2 ** 30 },
    report: (id, r) => input.api.report(id, r),
  });
  return session.download({
    manifest: input.manifest, publicKey: input.publicKey, prefer: input.prefer, exclude: input.exclude, onEvent: input.onEvent,
    refresh: input.refresh,
  });
}
