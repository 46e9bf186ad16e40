// The engine with every ranking signal, as each client runs it: node history that outlives one
// download (a file for the CLI, IndexedDB in the browser), a timed probe of nodes with no recent
// history, the device's budget, the user's preferred and excluded nodes, and chunk reports sent
// to the portal. Platform-free: the CLI and the browser inject their pieces; only those differ.
import type { CryptoLike } from '../crypto-like.ts';
import type { Manifest } from '../manifest.ts';
import type { EngineOptions } from './download.ts';
import type { DeviceHint } from './estimate.ts';
import type { ChunkReport, DownloadSummary, EngineEvent } from './events.ts';
import type { FetchLike } from './fetch-chunk.ts';
import { exportHistory, importHistory, newNodeStats, type NodeHistoryEntry, type NodeStatsTable } from './node-stats.ts';
import type { ProbeOptions } from './probe.ts';

/**
 * Where measurements are kept between sessions, keyed by node URL: what was measured is the
 * server at that address (node ids are only unique per portal).
 */
export interface HistoryStore {
  /** everything saved, by node URL; untrusted (importHistory checks every field) */
  load(): Record<string, unknown> | Promise<Record<string, unknown>>;
  /** merges these entries into what is saved */
  save(entries: Record<string, NodeHistoryEntry>, now: number): void | Promise<void>;
  /** forgets everything saved */
  clear?(): void | Promise<void>;
}

/** The user's own say: nodes to prefer, nodes never to ask (ids). */
export interface NodeChoice {
  prefer: string[];
  exclude: string[];
}

export interface SessionPieces {
  crypto: CryptoLike;
  fetch: FetchLike;
  /** ms clock on the epoch (history is compared across sessions) */
  now: () => number;
  history?: HistoryStore;
  device?: DeviceHint;
  /** the user's setting, read again for every download (the browser's settings page can change it) */
  choice?: () => NodeChoice | Promise<NodeChoice>;
  /** tells the portal a node served a bad chunk (POST /api/v1/contents/:id/reports) */
  report?: (contentId: string, r: ChunkReport) => Promise<unknown>;
  /** default true: nodes with no history of the last minutes get a timed test download */
  probe?: boolean | ProbeOptions;
  /** save this long after a measurement (one save per period, so a long download saves as it goes); absent: only flush() saves */
  saveAfterMs?: number;
  /** how long finish() waits for reports still on their way (default 3 s) */
  reportGraceMs?: number;
  /** saved entries older than this are ignored (default 7 days) */
  historyMaxAgeMs?: number;
}

/**
 * One download's request: the manifest and key, and any engine option to set for it alone. A
 * `stats` table of its own keeps its measurements out of the session's history (a download
 * served from a saved copy measures the device's storage, not the nodes).
 */
export type DownloadInput = Partial<EngineOptions> & Pick<EngineOptions, 'manifest' | 'publicKey'>;

export interface SessionDownload {
  options: EngineOptions;
  /** the `done` event's totals, once the download completed */
  readonly summary: DownloadSummary | null;
  /** saves the history and gives reports still on their way a moment */
  finish(): Promise<void>;
}

export const HISTORY_MAX_AGE_MS = 7 * 24 * 3600_000;
export const HISTORY_MAX_NODES = 512;
const REPORT_GRACE_MS = 3000;

/** Events that change what is known about a node: each makes the history worth saving. */
const MEASURED = new Set<EngineEvent['type']>(['node-probe', 'chunk-done', 'chunk-failed', 'node-backoff', 'chunk-abandoned', 'done']);

/** Saved entries worth keeping: recent ones, newest first, at most `maxNodes`. */
export function keepRecent(entries: Record<string, NodeHistoryEntry>, now: number, maxAgeMs = HISTORY_MAX_AGE_MS, maxNodes = HISTORY_MAX_NODES): Record<string, NodeHistoryEntry> {
  return Object.fromEntries(Object.entries(entries)
    .filter(([, e]) => e && typeof e.updatedAt === 'number' && now - e.updatedAt <= maxAgeMs)
    .sort((a, b) => b[1].updatedAt - a[1].updatedAt)
    .slice(0, maxNodes));
}

/** Both lists together, each id once; a node both preferred and excluded is excluded. */
function mergeChoice(a: Partial<NodeChoice>, b: Partial<NodeChoice>): NodeChoice {
  const exclude = [...new Set([...(a.exclude ?? []), ...(b.exclude ?? [])])];
  const prefer = [...new Set([...(a.prefer ?? []), ...(b.prefer ?? [])])].filter((id) => !exclude.includes(id));
  return { prefer, exclude };
}

export class EngineSession {
  /** one table for every download of the session: what one learns, the next starts from */
  readonly stats: NodeStatsTable = new Map();
  /** node id → URL, from the manifests seen: the history is saved by URL */
  private readonly urls = new Map<string, string>();
  private saved: Record<string, unknown> | null = null;
  private loading: Promise<void> | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private saving: Promise<void> = Promise.resolve();

  constructor(readonly pieces: SessionPieces) {
    const got = this.tryLoad();
    if (got instanceof Promise) this.loading = got.then((s) => void (this.saved = s));
    else this.saved = got;
  }

  /** Resolves once saved history is loaded; at once when the store answers synchronously. */
  async ready(): Promise<void> {
    await this.loading;
  }

  /** ready(), the user's choice, then download(): what the browser does before every download. */
  async prepare(input: DownloadInput): Promise<SessionDownload> {
    const [, choice] = await Promise.all([this.ready(), this.readChoice()]);
    return this.download({ ...input, ...mergeChoice(choice, input) });
  }

  /** The options for one download, from what the session holds now. */
  download(input: DownloadInput): SessionDownload {
    const p = this.pieces;
    const m = input.manifest;
    const shared = !input.stats || input.stats === this.stats;
    if (shared) this.seed(m);
    const reports: Promise<unknown>[] = [];
    let summary: DownloadSummary | null = null;
    const onEvent = input.onEvent;
    const options: EngineOptions = {
      crypto: p.crypto, fetch: p.fetch, now: p.now, probe: p.probe ?? true, device: p.device,
      ...input,
      stats: shared ? this.stats : input.stats!,
      onReport: input.onReport ?? (p.report && ((r) => void reports.push(p.report!(m.id, r).catch(() => {})))),
      onEvent: (e) => {
        if (e.type === 'done') summary = e;
        if (shared && MEASURED.has(e.type)) this.measured();
        onEvent?.(e);
      },
    };
    return {
      options,
      get summary() {
        return summary;
      },
      finish: async () => {
        const grace = p.reportGraceMs ?? REPORT_GRACE_MS;
        let t: ReturnType<typeof setTimeout> | undefined;
        const late = reports.length ? Promise.race([Promise.allSettled(reports), new Promise((r) => (t = setTimeout(r, grace)))]) : null;
        await Promise.all([this.flush(), late]);
        clearTimeout(t);
      },
    };
  }

  /** Saves what the session measured now (best effort: a failing store never fails a download). */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const store = this.pieces.history;
    if (!store) return Promise.resolve();
    // Saves run one after another, so an older table never overwrites a newer one.
    this.saving = this.saving.then(async () => {
      const byUrl: Record<string, NodeHistoryEntry> = {};
      for (const [id, e] of Object.entries(exportHistory(this.stats))) {
        const url = this.urls.get(id);
        if (url) byUrl[url] = e;
      }
      if (Object.keys(byUrl).length === 0) return;
      try {
        await store.save(byUrl, this.pieces.now());
      } catch {
        // history is an optimisation
      }
    });
    return this.saving;
  }

  /**
   * Forgets every measurement, here and in the store. Live downloads hold the same node records
   * (their requests in flight are counted there), so those are reset in place, not dropped.
   */
  async forget(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    for (const s of this.stats.values()) {
      Object.assign(s, newNodeStats(s.id), { inFlight: s.inFlight, requests: s.requests });
    }
    this.saved = {};
    await this.saving;
    await this.pieces.history?.clear?.();
  }

  private tryLoad(): Record<string, unknown> | Promise<Record<string, unknown>> {
    const empty = {};
    try {
      const got = this.pieces.history?.load() ?? empty;
      return got instanceof Promise ? got.then((s) => s ?? empty, () => empty) : got;
    } catch {
      return empty;
    }
  }

  private async readChoice(): Promise<Partial<NodeChoice>> {
    try {
      return (await this.pieces.choice?.()) ?? {};
    } catch {
      return {};
    }
  }

  /**
   * Seeds the table with the saved history of this manifest's nodes. A node the session has
   * measured itself keeps its own, fresher record.
   */
  private seed(m: Manifest): void {
    const now = this.pieces.now();
    const found: Record<string, unknown> = {};
    for (const n of m.nodes) {
      this.urls.set(n.id, n.url);
      if (!this.stats.has(n.id) && this.saved?.[n.url]) found[n.id] = this.saved[n.url];
    }
    importHistory(this.stats, found, now, this.pieces.historyMaxAgeMs ?? HISTORY_MAX_AGE_MS);
  }

  private measured(): void {
    const after = this.pieces.saveAfterMs;
    if (after === undefined || this.timer) return;
    this.timer = setTimeout(() => void this.flush(), after);
    // A pending save must not keep a CLI process alive.
    (this.timer as { unref?: () => void }).unref?.();
  }
}

export const engineSession = (pieces: SessionPieces) => new EngineSession(pieces);
