// One network of the simulation, in a process of its own (run.ts runs the networks side by
// side): the scenarios' rows as one JSON line on stdout, progress on stderr.
import { runScenarios, type SimConfig } from './scenarios.ts';

const cfg = JSON.parse(process.argv[2]) as SimConfig;
const result = runScenarios(cfg, (l) => process.stderr.write(`  [${cfg.regions} regions] ${l}\n`));
process.stdout.write(JSON.stringify(result) + '\n');
