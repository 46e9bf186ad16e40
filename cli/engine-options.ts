// The shared engine as the CLI runs it (and the benchmark, so it measures what users get): the
// node history from the state folder, a probe of nodes it knows nothing recent about, the
// user's preferred and excluded nodes, the machine's memory as the device hint, and chunk
// reports sent to the portal. `finish` saves the history and gives pending reports a moment.
import { totalmem } from 'node:os';
import type { ApiClient } from '../protocol/api-client.ts';
import type { CryptoLike } from '../protocol/crypto-like.ts';
import type { EngineOptions } from '../protocol/engine/download.ts';
import type { DownloadSummary, EngineEvent } from '../protocol/engine/events.ts';
import { BunsanError } from '../protocol/errors.ts';
import { NodeId } from '../protocol/ids.ts';
import type { Manifest } from '../protocol/manifest.ts';
import { loadHistory, saveHistory } from './node-history.ts';

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
}

/** Waits this long at most for reports still on their way when the download is over. */
const REPORT_GRACE_MS = 3000;

/** "n1,n2" → ['n1', 'n2'], each a valid node id. */
export function nodeList(flag: string | boolean | undefined, name: string): string[] {
  if (flag === undefined || flag === false) return [];
  const ids = String(flag).split(',').map((s) => s.trim()).filter(Boolean);
  for (const id of ids) if (!NodeId.safeParse(id).success) throw new BunsanError('bad_request', `--${name}: "${id}" is not a node id`);
  return ids;
}

export function cliEngine(input: CliEngineInput) {
  const { manifest } = input;
  const stats = loadHistory(input.home, manifest.nodes, Date.now());
  const reports: Promise<unknown>[] = [];
  let summary: DownloadSummary | null = null;
  const options: EngineOptions = {
    manifest, publicKey: input.publicKey, crypto: input.crypto, fetch: (u, i) => fetch(u, i), now: () => Date.now(),
    stats, probe: true, prefer: input.prefer, exclude: input.exclude,
    device: { memoryGiB: totalmem() / 2 ** 30 },
    onReport: (r) => void reports.push(input.api.report(manifest.id, r).catch(() => {})),
    onEvent: (e) => {
      if (e.type === 'done') summary = e;
      input.onEvent?.(e);
    },
  };
  return {
    options,
    stats,
    get summary(): DownloadSummary | null {
      return summary;
    },
    async finish(): Promise<void> {
      saveHistory(input.home, manifest.nodes, stats, Date.now());
      if (reports.length === 0) return;
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([Promise.allSettled(reports), new Promise((r) => (timer = setTimeout(r, REPORT_GRACE_MS)))]);
      clearTimeout(timer);
    },
  };
}
