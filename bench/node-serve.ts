// npm run bench:node — the self-hosted node against a plain node:http static server serving the
// same chunk files from the same disk (bench/node-serve/harness.ts). Prints the figures, writes
// the JSON to bench-results/, and refreshes the self-hosted block of BENCHMARKS.md for a full run.
// Settings, all optional:
//   BENCH_NODE_MIB          working set in MiB (default 4096: the memory pass serves all of it)
//   BENCH_NODE_CHUNK_KIB    chunk size (default 1024)
//   BENCH_NODE_CONCURRENCY  requests in flight (default 16)
//   BENCH_NODE_RUNS         throughput runs per server (default 5, alternating)
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../scripts/stack/build.ts';
import { machine } from './machine.ts';
import { runNodeServeBench, type NodeServeReport } from './node-serve/harness.ts';

const env = process.env;
const FULL_MIB = 4096;
const mib = Number(env.BENCH_NODE_MIB ?? FULL_MIB);
const chunkKiB = Number(env.BENCH_NODE_CHUNK_KIB ?? 1024);
const concurrency = Number(env.BENCH_NODE_CONCURRENCY ?? 16);
const runs = Number(env.BENCH_NODE_RUNS ?? 5);
const chunkBytes = chunkKiB * 1024;
const m = machine('');
const report = await runNodeServeBench({
  chunks: Math.max(1, Math.round((mib * 2 ** 20) / chunkBytes)), chunkBytes, concurrency, runs,
  passChunks: Math.round((1024 * 2 ** 20) / chunkBytes), log: (l) => console.log(l),
});
const block = renderBlock(report, `${m.cpu}, ${m.nproc} CPUs, ${m.memoryGiB} GiB, ${m.os}, Node ${m.node}; load average ${m.loadAtStart} at the start`);
console.log(`\n${block}`);
const dir = join(repoRoot, 'bench-results');
mkdirSync(dir, { recursive: true });
const file = join(dir, `bench-node-${report.at.replace(/[:.]/g, '-')}.json`);
writeFileSync(file, JSON.stringify({ ...report, machine: m }, null, 2) + '\n');
console.log(`results: ${file}`);
if (mib === FULL_MIB && chunkKiB === 1024 && concurrency === 16 && writeBlock(block)) console.log('BENCHMARKS.md self-hosted block updated');

function renderBlock(r: NodeServeReport, machineLine: string): string {
  const f = (x: number) => x.toFixed(0);
  const row = (name: string, s: NodeServeReport['static']) =>
    `| ${name} | ${f(s.medianMibps)} | ${s.mibps.map(f).join(', ')} | ${f(s.rss.idle)} | ${f(s.rss.before)} | ${f(s.rss.peak)} | ${f(s.rss.after)} |`;
  return [
    `Run ${r.at} on ${machineLine}. Working set ${(r.workingSetBytes / 2 ** 30).toFixed(2)} GiB in ${r.chunks} chunks of ${r.chunkBytes / 1024} KiB`
      + ` (written through the disk store in ${r.writeSeconds.toFixed(0)} s, so in the page cache), ${r.concurrency} requests in flight on loopback.`,
    '',
    '| server | GET MiB/s (median) | runs | RSS idle MiB | RSS before the memory pass | RSS peak while serving the working set | RSS after |',
    '|---|---|---|---|---|---|---|',
    row('plain node:http static server', r.static),
    row('self-hosted node', r.node),
    '',
    `Self-hosted node / static server: **${r.ratio.toFixed(2)}×** (target ≥ 0.8×).`,
  ].join('\n');
}

function writeBlock(block: string): boolean {
  const doc = join(repoRoot, 'BENCHMARKS.md');
  const begin = '<!-- bench:node-serve:begin -->';
  const end = '<!-- bench:node-serve:end -->';
  if (!existsSync(doc)) return false;
  const text = readFileSync(doc, 'utf8');
  const a = text.indexOf(begin);
  const b = text.indexOf(end);
  if (a < 0 || b < a) return false;
  writeFileSync(doc, text.slice(0, a + begin.length) + '\n' + block + '\n' + text.slice(b));
  return true;
}
