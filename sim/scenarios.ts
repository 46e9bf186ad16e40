// The simulation's scenarios: joins, a drain, single and double failures, a restart within the
// grace period, and a whole region going dark, each measured against its optimum. Shared by
// `npm run sim` (1,000 nodes, 1,000,000 chunks) and its small version in `npm test`.
import { Cluster } from './cluster.ts';

export interface SimConfig { nodes: number; regions: number; chunks: number; replicas: number; budget: number; seed: number }

export interface Row {
  scenario: string;
  /** chunks planned (those the event may concern) */
  affected: number;
  bytesMoved: number;
  optimum: number;
  /** bytes moved / optimum (null where nothing should move) */
  ratio: number | null;
  sweeps: number;
  /** the largest shortfall of serving copies any chunk had, before repair */
  deficit: number;
  lost: number;
  seconds: number;
}

const MiB = 1024 * 1024;
/** Chunk sizes between 256 KiB and 4 MiB, as uploads of different chunkings would leave them. */
const sizeOf = (seed: number) => (i: number) => 256 * 1024 + ((i * 2654435761 + seed * 97) % 15) * 256 * 1024;

export function buildCluster(cfg: SimConfig): { cluster: Cluster; placeSeconds: number } {
  const t = performance.now();
  const cluster = new Cluster(cfg.replicas, cfg.chunks, sizeOf(cfg.seed), cfg.seed);
  for (let i = 0; i < cfg.nodes; i++) cluster.addNode(`r${i % cfg.regions}`);
  cluster.place();
  return { cluster, placeSeconds: (performance.now() - t) / 1000 };
}

const takers = (cl: Cluster, region?: string) => cl.nodes.filter((n) => (n.state === 'active' || n.state === 'joining') && (!region || n.region === region));

function measure(name: string, affected: number[], cl: Cluster, budget: number, optimum: number, expectMoves: boolean, t0: number): Row {
  const deficit = cl.replicas - cl.minServing(affected);
  const r = cl.settle(affected, budget);
  return {
    scenario: name, affected: affected.length, bytesMoved: r.stats.bytes, optimum,
    ratio: expectMoves ? r.stats.bytes / optimum : null, sweeps: r.sweeps, deficit: Math.max(0, deficit), lost: cl.lost(affected),
    seconds: (performance.now() - t0) / 1000,
  };
}

/** Nodes join: what they should hold at balance is their share of their region's bytes. */
function join(cl: Cluster, cfg: SimConfig, count: number): Row {
  const t0 = performance.now();
  const fresh = Array.from({ length: count }, (_, i) => cl.addNode(`r${i % cfg.regions}`, 'joining'));
  const affected = [...new Set(fresh.flatMap((n) => cl.chunksWon(n.id)))];
  const row = measure(`${count} node${count > 1 ? 's' : ''} join${count > 1 ? '' : 's'}`, affected, cl, cfg.budget, 0, true, t0);
  // Optimum: the bytes the new nodes hold once balanced — each its region's bytes over the region's nodes.
  let optimum = 0;
  const bytes = cl.bytesByNode();
  for (const n of fresh) {
    const region = takers(cl, n.region);
    const regionBytes = region.reduce((b, x) => b + bytes.get(x.id)!, 0);
    optimum += regionBytes / region.length;
  }
  for (const n of fresh) n.state = 'active';
  return { ...row, optimum, ratio: row.bytesMoved / optimum };
}

/** A node drains: everything it holds must be made again elsewhere, nothing more. */
function drain(cl: Cluster, cfg: SimConfig): Row {
  const t0 = performance.now();
  const n = takers(cl)[7];
  const held = cl.bytesOn(n.id);
  const affected = cl.chunksOn(n.id);
  n.state = 'draining';
  const row = measure('1 node drains', affected, cl, cfg.budget, held, true, t0);
  n.state = 'retired';
  return row;
}

/** Nodes die with their bytes; after the grace period their copies are made again elsewhere. */
function fail(cl: Cluster, cfg: SimConfig, name: string, victims: ReturnType<typeof takers>): Row {
  const t0 = performance.now();
  const bytes = cl.bytesByNode();
  const held = victims.reduce((b, n) => b + bytes.get(n.id)!, 0);
  const affected = cl.chunksOnAny(victims.map((n) => n.id));
  for (const n of victims) {
    n.state = 'down';
    n.destroyed = true;
  }
  const deficit = cl.replicas - cl.minServing(affected);
  for (const n of victims) n.lost = true;
  const row = measure(name, affected, cl, cfg.budget, held, true, t0);
  for (const n of victims) n.state = 'retired';
  return { ...row, deficit: Math.max(row.deficit, deficit) };
}

/** A node stops and comes back within its grace period: nothing moves, its copies are checked. */
function restart(cl: Cluster, cfg: SimConfig): Row {
  const t0 = performance.now();
  const n = takers(cl)[11];
  const affected = cl.chunksOn(n.id);
  n.state = 'down';
  const during = cl.settle(affected, cfg.budget);
  n.state = 'joining';
  cl.markSuspect(n.id);
  const row = measure('1 node restarts within its grace period', affected, cl, cfg.budget, 0, false, t0);
  n.state = 'active';
  return { ...row, bytesMoved: row.bytesMoved + during.stats.bytes };
}

export function runScenarios(cfg: SimConfig, log: (line: string) => void = () => {}): { rows: Row[]; placeSeconds: number; storedBytes: number } {
  const { cluster: cl, placeSeconds } = buildCluster(cfg);
  log(`placed ${cfg.chunks} chunks on ${cfg.nodes} nodes in ${placeSeconds.toFixed(1)} s`);
  const storedBytes = [...cl.bytesByNode().values()].reduce((a, b) => a + b, 0);
  const rows: Row[] = [];
  const step = (r: Row) => {
    rows.push(r);
    log(`${r.scenario}: moved ${(r.bytesMoved / MiB).toFixed(0)} MiB, optimum ${(r.optimum / MiB).toFixed(0)} MiB, ${r.sweeps} sweeps, lost ${r.lost} (${r.seconds.toFixed(1)} s)`);
  };
  step(join(cl, cfg, 1));
  step(join(cl, cfg, 10));
  step(drain(cl, cfg));
  step(restart(cl, cfg));
  step(fail(cl, cfg, '1 node dies', [takers(cl)[3]]));
  step(fail(cl, cfg, `${cfg.replicas - 1} nodes die at once`, takers(cl).slice(20, 20 + cfg.replicas - 1)));
  step(fail(cl, cfg, `region r1 (${takers(cl, 'r1').length} nodes) goes dark`, takers(cl, 'r1')));
  return { rows, placeSeconds, storedBytes };
}
