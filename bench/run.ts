// npm run bench: every profile, bunsan against its peers on the same shaped links. Prints a
// table, writes the JSON to bench-results/, and (for the full 256 MiB run of every profile)
// refreshes the results block of BENCHMARKS.md. Settings, all optional:
//   BENCH_SIZE_MIB   item size (default 256; smaller for a quick look)
//   BENCH_CHUNK_KIB  chunk size (default 1024)
//   BENCH_PROFILES   comma-separated profile names (default all: equal,skewed,slow-node,node-dies,node-hangs,latencies)
//   BENCH_PEERS      comma-separated peers to run beside bunsan: single,aria2,sw (default all three; "none" for none)
//   BENCH_SW_PROFILES the profiles the service worker (sw) runs in (default equal; "all" for every one)
// `npm run bench -- --render FILE` rewrites the results block from a saved JSON file.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../scripts/stack/build.ts';
import { runBench, type BenchReport, type Peer } from './harness.ts';
import { markdownTable } from './metrics.ts';
import { PROFILES } from './profiles.ts';
import { targetsTable } from './targets.ts';

const FULL_MIB = 256;
const DOC = join(repoRoot, 'BENCHMARKS.md');

// `npm run bench -- --render FILE`: the results block of BENCHMARKS.md again from a saved run.
if (process.argv[2] === '--render') {
  const saved = JSON.parse(readFileSync(process.argv[3], 'utf8')) as BenchReport;
  console.log(writeResults(saved) ? 'BENCHMARKS.md results block updated' : 'BENCHMARKS.md has no results block');
  process.exit(0);
}

const env = process.env;
const sizeMiB = Number(env.BENCH_SIZE_MIB ?? FULL_MIB);
const chunkKiB = Number(env.BENCH_CHUNK_KIB ?? 1024);
if (!(sizeMiB > 0) || !Number.isInteger(chunkKiB) || chunkKiB < 64) throw new Error('BENCH_SIZE_MIB must be > 0 and BENCH_CHUNK_KIB an integer ≥ 64');
const names = env.BENCH_PROFILES ? env.BENCH_PROFILES.split(',').map((s) => s.trim()) : PROFILES.map((p) => p.name);
const profiles = names.map((n) => PROFILES.find((p) => p.name === n) ?? (() => { throw new Error(`unknown profile ${n}`); })());
const PEER_NAMES: Record<string, Peer> = { single: 'single-node', aria2: 'aria2', sw: 'service worker (Chromium)' };
const peerList = (env.BENCH_PEERS ?? 'single,aria2,sw').split(',').map((s) => s.trim()).filter((s) => s && s !== 'none');
for (const p of peerList) if (!PEER_NAMES[p]) throw new Error(`unknown peer ${p} (single, aria2, sw)`);
const swProfiles = (env.BENCH_SW_PROFILES ?? 'equal').split(',').map((s) => s.trim());
const peers = (p: { name: string }): Peer[] => peerList
  .filter((n) => n !== 'sw' || swProfiles.includes('all') || swProfiles.includes(p.name))
  .map((n) => PEER_NAMES[n]);

const report = await runBench({
  size: Math.round(sizeMiB * 2 ** 20), chunkSize: chunkKiB * 1024, profiles, peers, log: (l) => console.log(l),
});

console.log(`\n${markdownTable(report.rows)}\n`);
console.log(`${targetsTable(report)}\n`);
for (const s of report.skipped) console.log(`skipped ${s}`);

const dir = join(repoRoot, 'bench-results');
mkdirSync(dir, { recursive: true });
const file = join(dir, `bench-${report.at.replace(/[:.]/g, '-')}.json`);
writeFileSync(file, JSON.stringify(report, null, 2) + '\n');
console.log(`results: ${file}`);
if (sizeMiB === FULL_MIB && chunkKiB === 1024 && profiles.length === PROFILES.length && writeResults(report)) {
  console.log('BENCHMARKS.md results block updated');
}

/** Rewrites the block between the markers in BENCHMARKS.md; false if there is none. */
function writeResults(r: BenchReport): boolean {
  const begin = '<!-- bench:results:begin -->';
  const end = '<!-- bench:results:end -->';
  if (!existsSync(DOC)) return false;
  const text = readFileSync(DOC, 'utf8');
  const a = text.indexOf(begin);
  const b = text.indexOf(end);
  if (a < 0 || b < a) return false;
  writeFileSync(DOC, text.slice(0, a + begin.length) + '\n' + resultsBlock(r) + '\n' + text.slice(b));
  return true;
}

function resultsBlock(r: BenchReport): string {
  const m = r.machine;
  const lines = [
    `Run ${r.at} on ${m.cpu}, ${m.nproc} CPUs, ${m.memoryGiB} GiB, ${m.os}, Node ${m.node}, ${m.aria2 ?? 'no aria2'}, ${m.chromium ?? 'no Chromium'};`
      + ` load average ${m.loadAtStart} at the start, ${r.loadAtEnd} at the end (the machine is shared).`,
    `Item: ${(r.size / 2 ** 20).toFixed(0)} MiB in ${r.chunks} chunks of ${r.chunkSize / 1024} KiB (${r.wireBytes} bytes on the wire), a replica on each of ${r.replicas} nodes; upload ${r.uploadSeconds.toFixed(1)} s with the links open.`,
    '',
    '| profile | sum of caps | ideal time (wire bytes / sum of caps) |',
    '|---|---|---|',
    ...r.profiles.map((p) => `| ${p.title} | ${(p.sumOfCaps / 1e6).toFixed(1)} MB/s | ${p.idealSeconds.toFixed(2)} s |`),
    '',
    markdownTable(r.rows),
    ...(r.skipped.length ? ['', ...r.skipped.map((s) => `Skipped ${s}.`)] : []),
    ...cpuNotes(r),
    '',
    'Against the targets (issue 4), from this run:',
    '',
    targetsTable(r),
  ];
  return lines.join('\n');
}

/** How many of the machine's cores each client kept busy on the equal links: near the core count, it was CPU-bound. */
function cpuNotes(r: BenchReport): string[] {
  const rows = r.rows.filter((x) => x.profile === 'equal' && x.ok && x.cpuSeconds != null && !x.reusedFrom);
  if (!rows.length) return [];
  const each = rows.map((x) => `${x.client} ${x.cpuSeconds!.toFixed(1)} s of CPU in ${x.seconds.toFixed(2)} s (${(x.cpuSeconds! / x.seconds).toFixed(2)} cores)`);
  return ['', `Client CPU on equal links, of ${r.machine.nproc} cores: ${each.join('; ')}.`];
}
