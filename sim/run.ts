// npm run sim: the lifecycle's planning over 1,000 simulated nodes and 1,000,000 chunks in
// memory (no HTTP): joins, a drain, a restart, single and double failures, a whole region going
// dark — in a network of 5 regions and in one of 3 — with bytes moved against the optimum,
// sweeps until every chunk is whole again, the largest replica deficit and chunks lost, written
// to SIMULATION.md. `--nodes N --chunks N` run it smaller. Then the demand simulation (a day of
// viewers, fixed replication against copies following demand; sim/demand-run.ts), its own section;
// `--demand-small` runs its small version.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { host } from '../bench/machine.ts';
import type { Row, SimConfig } from './scenarios.ts';
import { FULL_DEMAND, runDemand, SMALL_DEMAND } from './demand-run.ts';
import { demandSection, demandTargetsMet } from './demand-report.ts';

const { values } = parseArgs({ options: { nodes: { type: 'string' }, chunks: { type: 'string' }, out: { type: 'string' }, 'demand-small': { type: 'boolean' } } });
const nodes = Number(values.nodes ?? 1000);
const chunks = Number(values.chunks ?? 1_000_000);
const out = values.out ?? 'SIMULATION.md';
const GiB = 1024 ** 3;

// A node takes part in up to four times its average share of copies per sweep.
const budget = Math.max(50, Math.round((4 * chunks) / nodes));
const configs: SimConfig[] = [
  { nodes, regions: 5, chunks, replicas: 3, budget, seed: 1 },
  { nodes, regions: 3, chunks, replicas: 3, budget, seed: 2 },
];

type Result = { rows: Row[]; placeSeconds: number; storedBytes: number };
/** Each network in its own process, side by side (they share nothing). */
function runApart(cfg: SimConfig): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./config-run.ts', import.meta.url)), JSON.stringify(cfg)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(JSON.parse(out) as Result) : reject(new Error(`the ${cfg.regions}-region network failed (${code})`))));
  });
}

const started = performance.now();
console.log(`${nodes} nodes, ${chunks} chunks, 3 replicas: a network of 5 regions and one of 3, side by side`);
const results = await Promise.all(configs.map(runApart));
const sections: string[] = [];
let allMet = true;
for (const [i, cfg] of configs.entries()) {
  const { rows, placeSeconds, storedBytes } = results[i];
  const met = (r: Row) => r.lost === 0 && (r.ratio === null ? r.bytesMoved === 0 : r.ratio <= 1.1);
  allMet &&= rows.every(met);
  sections.push([
    `### ${cfg.nodes} nodes in ${cfg.regions} regions, ${cfg.chunks.toLocaleString('en')} chunks at ${cfg.replicas} replicas`,
    '',
    `${(storedBytes / GiB).toFixed(0)} GiB stored; placed in ${placeSeconds.toFixed(1)} s; at most ${cfg.budget} copies to or from one node per sweep.`,
    '',
    '| event | chunks planned | moved | optimum | moved / optimum | sweeps | largest deficit | chunks lost | target met |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---|',
    ...rows.map((r) => `| ${r.scenario} | ${r.affected.toLocaleString('en')} | ${(r.bytesMoved / GiB).toFixed(2)} GiB | ${r.ratio === null ? 'nothing' : `${(r.optimum / GiB).toFixed(2)} GiB`} | ${r.ratio === null ? '—' : `${r.ratio.toFixed(3)}×`} | ${r.sweeps} | ${r.deficit} | ${r.lost} | ${met(r) ? 'yes' : '**no**'} |`),
  ].join('\n'));
}

const demandCfg = values['demand-small'] ? SMALL_DEMAND : FULL_DEMAND;
console.log(`\ndemand: ${demandCfg.nodes} nodes, ${demandCfg.contents} contents, a day of viewers`);
const demand = runDemand(demandCfg, (l) => console.log(`  ${l}`));
const dm = demandTargetsMet(demand);
allMet &&= dm.overload && dm.storage;

const m = host();
const doc = `# Simulation

\`npm run sim\` runs the node lifecycle's planning code (\`protocol/lifecycle/\`, the code every
content's manager runs) over simulated networks in memory: every event below is planned chunk by
chunk exactly as a manager would plan it, and carried out in sweeps in which each node takes part
in a bounded number of copies. Targets: bytes moved at most 1.1× the optimum for every join and
leave; no chunk lost while fewer than \`replicas\` nodes fail at once; a region going dark loses
nothing when copies are spread over at least \`replicas\` regions.

- **Optimum.** A join: what the new nodes hold once balanced (each its region's bytes over the
  region's nodes). A drain or a death: the bytes the node held (each must be made again once).
  A restart within the grace period: nothing.
- **Largest deficit.** The most copies any chunk was short of its replica count between the event
  and its repair (serving copies on nodes that are up).
- **Sweeps.** Rounds of planning and carrying out until no chunk has work left.

${sections.join('\n\n')}

${demandSection(demandCfg, demand)}
Every target ${allMet ? 'was met' : 'was **not** met'} in this run (${((performance.now() - started) / 1000).toFixed(0)} s in all).

Machine: ${m.cpu}, ${m.nproc} CPUs, ${m.memoryGiB} GiB, ${m.os}, Node ${m.node}; load ${m.loadAtStart.toFixed(1)} at the start.
`;
writeFileSync(out, doc);
console.log(`\nwritten to ${out}${allMet ? '' : ' — a target was NOT met'}`);
process.exitCode = allMet ? 0 : 1;
