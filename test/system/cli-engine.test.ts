// How the CLI runs the engine, without a stack: node lists from flags, and the node history in
// the state folder (written after a run, read before the next, keyed by node URL, tolerant of a
// missing or corrupt file).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { nodeList } from '../../cli/engine-options.ts';
import { historyFile, loadHistory, saveHistory } from '../../cli/node-history.ts';
import { statsFor, type NodeStatsTable } from '../../protocol/engine/node-stats.ts';
import type { NodeInfo } from '../../protocol/manifest.ts';

const dirs: string[] = [];
const home = () => {
  const d = mkdtempSync(join(tmpdir(), 'bunsan-history-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const nodes = (...pairs: Array<[string, string]>): NodeInfo[] => pairs.map(([id, url]) => ({ id, url, region: 'local', grade: 1 }));

describe('--prefer and --exclude', () => {
  it('take comma-separated node ids and refuse anything else', () => {
    expect(nodeList(undefined, 'prefer')).toEqual([]);
    expect(nodeList('n1, n2,,n3', 'prefer')).toEqual(['n1', 'n2', 'n3']);
    expect(() => nodeList('n1,../x', 'exclude')).toThrow(/--exclude: "..\/x" is not a node id/);
  });
});

describe('node-history.json', () => {
  const now = 1_800_000_000_000;

  it('remembers what a run measured, by node URL, for the next run', () => {
    const h = home();
    const table: NodeStatsTable = new Map();
    Object.assign(statsFor(table, 'n1'), { rate: 8000, rateSamples: 3, latency: 12, latencyDev: 2, successes: 9, updatedAt: now });
    Object.assign(statsFor(table, 'n2'), { failures: 2, consecutiveFailures: 2, backoffUntil: now + 1000, updatedAt: now });
    statsFor(table, 'n3'); // never measured: not written
    const dir = nodes(['n1', 'http://a.example'], ['n2', 'http://b.example'], ['n3', 'http://c.example']);
    saveHistory(h, dir, table, now);
    const file = JSON.parse(readFileSync(historyFile(h), 'utf8'));
    expect(Object.keys(file.nodes).sort()).toEqual(['http://a.example', 'http://b.example']);

    // another portal calls the node at a.example "x7": the measurement follows the URL
    const loaded = loadHistory(h, nodes(['x7', 'http://a.example'], ['n2', 'http://elsewhere.example']), now + 10);
    expect(loaded.get('x7')).toMatchObject({ rate: 8000, latency: 12, latencyDev: 2, successes: 9 });
    expect(loaded.has('n2')).toBe(false);

    // a later save keeps other portals' nodes
    const more: NodeStatsTable = new Map();
    Object.assign(statsFor(more, 'm1'), { rate: 1, rateSamples: 1, latency: 1, updatedAt: now + 5 });
    saveHistory(h, nodes(['m1', 'http://d.example']), more, now + 5);
    expect(Object.keys(JSON.parse(readFileSync(historyFile(h), 'utf8')).nodes).sort()).toEqual(['http://a.example', 'http://b.example', 'http://d.example']);
  });

  it('starts cold from a missing, corrupt or stale file, and never fails a download over it', () => {
    const h = home();
    const dir = nodes(['n1', 'http://a.example']);
    expect(loadHistory(h, dir, now).size).toBe(0);
    writeFileSync(historyFile(h), '{not json');
    expect(loadHistory(h, dir, now).size).toBe(0);
    writeFileSync(historyFile(h), JSON.stringify({ format: 1, nodes: { 'http://a.example': { rate: 5, latency: 5, updatedAt: now - 8 * 24 * 3600_000 } } }));
    expect(loadHistory(h, dir, now).size).toBe(0);
    // an unwritable state folder: saving is skipped silently
    const table: NodeStatsTable = new Map();
    Object.assign(statsFor(table, 'n1'), { rate: 1, rateSamples: 1, latency: 1, updatedAt: now });
    expect(() => saveHistory(join(historyFile(h), 'sub'), dir, table, now)).not.toThrow();
  });
});
