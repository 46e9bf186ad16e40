// The CLI's memory of nodes between runs: `<BUNSAN_HOME>/node-history.json`, measured speed
// and back-off per node, keyed by the node's URL (what was measured; ids are only unique per
// portal). Read before a download so the engine starts from what it learnt last time, written
// after. Best effort: a missing, corrupt or unwritable file just means starting cold.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { exportHistory, importHistory, type NodeHistoryEntry, type NodeStatsTable } from '../protocol/engine/node-stats.ts';
import type { NodeInfo } from '../protocol/manifest.ts';

export const historyFile = (home: string) => join(home, 'node-history.json');

const FORMAT = 1;
const MAX_AGE_MS = 7 * 24 * 3600_000;
const MAX_NODES = 512;

interface HistoryFile { format: number; nodes: Record<string, NodeHistoryEntry> }

function read(home: string): Record<string, NodeHistoryEntry> {
  try {
    const f = JSON.parse(readFileSync(historyFile(home), 'utf8')) as Partial<HistoryFile>;
    return f.format === FORMAT && f.nodes && typeof f.nodes === 'object' ? f.nodes : {};
  } catch {
    return {};
  }
}

/** A stats table for these nodes, seeded from the file. */
export function loadHistory(home: string, nodes: NodeInfo[], now: number): NodeStatsTable {
  const saved = read(home);
  const byId: Record<string, unknown> = {};
  for (const n of nodes) if (saved[n.url]) byId[n.id] = saved[n.url];
  const table: NodeStatsTable = new Map();
  importHistory(table, byId, now, MAX_AGE_MS);
  return table;
}

/** Merges what this run learnt into the file (other portals' nodes stay), dropping stale entries. */
export function saveHistory(home: string, nodes: NodeInfo[], table: NodeStatsTable, now: number): void {
  try {
    const merged = read(home);
    const urls = new Map(nodes.map((n) => [n.id, n.url]));
    for (const [id, entry] of Object.entries(exportHistory(table))) {
      const url = urls.get(id);
      if (url) merged[url] = entry;
    }
    const kept = Object.entries(merged)
      .filter(([, e]) => e && typeof e.updatedAt === 'number' && now - e.updatedAt <= MAX_AGE_MS)
      .sort((a, b) => b[1].updatedAt - a[1].updatedAt)
      .slice(0, MAX_NODES);
    mkdirSync(home, { recursive: true });
    const file = historyFile(home);
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify({ format: FORMAT, nodes: Object.fromEntries(kept) } satisfies HistoryFile, null, 1));
    renameSync(tmp, file);
  } catch {
    // history is an optimisation; a read-only state folder must not fail a download
  }
}
