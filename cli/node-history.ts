// The CLI's memory of nodes between runs: `<BUNSAN_HOME>/node-history.json`, measured speed
// and back-off per node, keyed by the node's URL (what was measured; ids are only unique per
// portal). Read before a download so the engine starts from what it learnt last time, written
// after. Best effort: a missing, corrupt or unwritable file just means starting cold.
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { exportHistory, importHistory, type NodeHistoryEntry, type NodeStatsTable } from '../protocol/engine/node-stats.ts';
import { HISTORY_MAX_AGE_MS, keepRecent, type HistoryStore } from '../protocol/engine/session.ts';
import type { NodeInfo } from '../protocol/manifest.ts';

export const historyFile = (home: string) => join(home, 'node-history.json');

const FORMAT = 1;

interface HistoryFile { format: number; nodes: Record<string, NodeHistoryEntry> }

function read(home: string): Record<string, NodeHistoryEntry> {
  try {
    const f = JSON.parse(readFileSync(historyFile(home), 'utf8')) as Partial<HistoryFile>;
    return f.format === FORMAT && f.nodes && typeof f.nodes === 'object' ? f.nodes : {};
  } catch {
    return {};
  }
}

/** Merges entries (by node URL) into the file: other portals' nodes stay, stale entries go. */
function write(home: string, entries: Record<string, NodeHistoryEntry>, now: number): void {
  try {
    const kept = keepRecent({ ...read(home), ...entries }, now);
    mkdirSync(home, { recursive: true });
    const file = historyFile(home);
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify({ format: FORMAT, nodes: kept } satisfies HistoryFile, null, 1));
    renameSync(tmp, file);
  } catch {
    // history is an optimisation; a read-only state folder must not fail a download
  }
}

/** The file as the engine session's history store. */
export function fileHistory(home: string): HistoryStore {
  return {
    load: () => read(home),
    save: (entries, now) => write(home, entries, now),
    clear: () => rmSync(historyFile(home), { force: true }),
  };
}

/** A stats table for these nodes, seeded from the file. */
export function loadHistory(home: string, nodes: NodeInfo[], now: number): NodeStatsTable {
  const saved = read(home);
  const byId: Record<string, unknown> = {};
  for (const n of nodes) if (saved[n.url]) byId[n.id] = saved[n.url];
  const table: NodeStatsTable = new Map();
  importHistory(table, byId, now, HISTORY_MAX_AGE_MS);
  return table;
}

/** Merges what this run learnt about these nodes into the file. */
export function saveHistory(home: string, nodes: NodeInfo[], table: NodeStatsTable, now: number): void {
  const urls = new Map(nodes.map((n) => [n.id, n.url]));
  const entries: Record<string, NodeHistoryEntry> = {};
  for (const [id, entry] of Object.entries(exportHistory(table))) {
    const url = urls.get(id);
    if (url) entries[url] = entry;
  }
  write(home, entries, now);
}
