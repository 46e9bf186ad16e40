// The numbers reported for one download, whatever the client.

export const CLIENTS = ['bunsan', 'single-node', 'aria2', 'service worker (Chromium)'] as const;
export type Client = (typeof CLIENTS)[number];

export interface Row {
  profile: string;
  client: Client;
  ok: boolean;
  /** why the run failed or was skipped */
  note?: string;
  /** the same link was measured in this profile: the row repeats that measurement */
  reusedFrom?: string;
  seconds: number;
  /** bytes on the wire of the item divided by the time, over the sum of the node caps */
  fractionOfCaps: number;
  ttfbMs: number | null;
  /** time to the first byte on any link, as the shaper saw it (the same measure for every client) */
  wireTtfbMs: number | null;
  p50ChunkMs: number | null;
  p99ChunkMs: number | null;
  hedgedBytes: number | null;
  /** failed requests the client recovered from (or 1 when the download itself failed) */
  errors: number;
  /** longest time the output made no progress after its first byte (aria2: no byte on any link; service worker: the page's reads) */
  stallMs: number;
  /** CPU seconds the client spent; null when it cannot be read */
  cpuSeconds: number | null;
  /** bytes each node's link carried */
  bytesPerNode: number[];
  /** ms each link sat idle between the run's first and last byte */
  idleMsPerNode: number[];
  /** ms from the client's start to the profile's fault (a node dying or hanging); null when none struck */
  faultAtMs: number | null;
  /** ms from the first to the last byte on any link */
  wireSpanMs: number | null;
  /** link capacity (bytes) the shaper lost while a body waited for it (the shaper ran late), per node */
  lostWaitingPerNode: number[];
  /** link capacity (bytes) lost while bodies were open but had nothing to send (upstream or client slow), per node */
  lostIdlePerNode: number[];
}

export function percentile(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

const fmt = (v: number | null, digits = 0) => (v === null ? '—' : v.toFixed(digits));
const mib = (b: number | null) => (b === null ? '—' : `${(b / 2 ** 20).toFixed(1)} MiB`);

export const TABLE_HEAD = [
  'profile', 'client', 'time s', '% of caps', 'TTFB ms', '1st wire byte ms', 'p50 chunk ms', 'p99 chunk ms', 'hedged', 'errors', 'longest stall ms', 'client CPU s',
];

export function tableRow(r: Row): string[] {
  const client = r.reusedFrom ? `${r.client} (as in ${r.reusedFrom})` : r.client;
  if (!r.ok) return [r.profile, client, r.note ?? 'failed', '', '', '', '', '', '', String(r.errors), '', ''];
  return [
    r.profile, client, fmt(r.seconds, 2), `${fmt(r.fractionOfCaps * 100, 1)} %`, fmt(r.ttfbMs), fmt(r.wireTtfbMs), fmt(r.p50ChunkMs), fmt(r.p99ChunkMs),
    mib(r.hedgedBytes), String(r.errors), fmt(r.stallMs), fmt(r.cpuSeconds ?? null, 1),
  ];
}

/** A Markdown table (also readable as plain text). */
export function markdownTable(rows: Row[]): string {
  const body = rows.map(tableRow);
  const widths = TABLE_HEAD.map((h, i) => Math.max(h.length, ...body.map((r) => r[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  return [line(TABLE_HEAD), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...body.map(line)].join('\n');
}
