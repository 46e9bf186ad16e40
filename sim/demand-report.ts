// The "Demand" section of SIMULATION.md, from a run of sim/demand-run.ts.
import type { DemandConfig } from './demand-world.ts';
import type { DemandResult } from './demand-run.ts';

const GiB = 1024 ** 3;
const pct = (x: number) => `${(x * 100).toFixed(2)} %`;

/** The brief's targets: (b) overloaded ≤ a tenth of (a), and at most 20 % more bytes stored than base replication. */
export function demandTargetsMet(r: DemandResult): { overload: boolean; storage: boolean } {
  return {
    overload: r.following.overloaded <= r.fixed.overloaded / 10,
    storage: r.following.avgStored <= 1.2 * r.following.baseStored,
  };
}

export function demandSection(cfg: DemandConfig, r: DemandResult): string {
  const met = demandTargetsMet(r);
  const row = (name: string, p: DemandResult['fixed']) =>
    `| ${name} | ${pct(p.overloaded)} | ${pct(p.excess)} | ${pct(p.flashOverloaded)} | ${(p.bytesMoved / GiB).toFixed(0)} GiB | ${(p.avgStored / GiB).toFixed(0)} GiB (${(p.avgStored / p.baseStored).toFixed(3)}× base) | ${p.maxCopies} | ${p.peakMirrors} |`;
  return `## Demand

A day of viewers over ${cfg.nodes.toLocaleString('en')} nodes in ${cfg.regions} regions (egress 50–150 MB/s each) and
${cfg.contents.toLocaleString('en')} contents of Zipf popularity (s = 1); half of a content's viewers in its home region, regions
of different sizes, each peaking at 21:00 local time, spread round the globe; mean demand ${cfg.utilisation * 100} % of all
egress; a flash crowd ×${cfg.flash.factor} on the content of rank ${cfg.flash.rank} for ${cfg.flash.minutes} minutes from ${cfg.flash.at / 60}:00.
Steps of ${cfg.stepMinutes} min after ${cfg.warmupMinutes / 60} h of warm-up. A request goes to a holder in the viewer's region
while one has room, else to the least loaded holder (water-filling over a unit's holders).

- **(a) fixed**: three copies by the lifecycle's target; a fourth on an even, hash-chosen ${pct(r.fourthCopies)}
  of the contents (not by popularity), so that it stores what (b) stores on average. All nodes serve.
- **(b) following demand**: three copies, plus what \`protocol/demand/\` decides every 3 min from
  demand measured and smoothed over ~3 min (\`decideCopies\`, \`demandTargets\`, \`nodeHot\`), and
  ${cfg.mirrors * 100} % of the nodes kept as standby mirrors that \`decideMirrors\` wakes per region.
- **Model.** A content is a few units: its first 16 chunks as four units of four, then units
  of 16 chunks (4 MiB each), each placed and served as one chunk, so load is more concentrated
  than with per-chunk placement, for both policies. The ${cfg.head.toLocaleString('en')} most popular contents are
  followed flow by flow; the long tail (each flow tiny) is placed by a hashed weighted pick in
  distinct regions and served as a background load that moves off overloaded nodes to nodes
  with room, as its viewers would.
- **Overloaded**: bytes served by a node over its egress, over all bytes served; **excess**:
  the bytes beyond the egress.

| policy | overloaded | excess | overloaded in the flash hour | bytes moved | stored on average | most copies | mirrors awake at most |
|---|---:|---:|---:|---:|---:|---:|---:|
${row('(a) fixed', r.fixed)}
${row('(b) following demand', r.following)}

(b) overloaded ≤ a tenth of (a): ${met.overload ? 'met' : '**not met**'}; (b) stores at most 20 % more than base replication: ${met.storage ? 'met' : '**not met**'}. ${r.following.ups} raises, ${r.following.downs} lowerings, ${r.following.mirrorWakes} mirror wakes; ${r.seconds.toFixed(0)} s.
`;
}
