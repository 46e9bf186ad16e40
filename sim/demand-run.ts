// The demand simulation: the same day of viewers over two policies — (b) copies following demand
// with standby mirrors, run first; then (a) fixed replication given the same storage on average
// (every content three copies, and an even, hash-chosen fraction of contents a fourth: not by
// popularity). Shared by `npm run sim` and its small version in `npm test`.
import { DemandNetwork, type PolicyResult } from './demand-network.ts';
import { BASE, buildWorld, draw, unitBytes, type DemandConfig, type World } from './demand-world.ts';

export interface DemandResult { fixed: PolicyResult; following: PolicyResult; fourthCopies: number; seconds: number }

export const FULL_DEMAND: DemandConfig = {
  nodes: 1000, regions: 5, contents: 100_000, head: 1000, utilisation: 0.4, mirrors: 0.1, stepMinutes: 1, warmupMinutes: 360,
  flash: { rank: 500, factor: 1000, at: 14 * 60, minutes: 60 }, seed: 1,
};

export const SMALL_DEMAND: DemandConfig = {
  nodes: 200, regions: 5, contents: 5_000, head: 150, utilisation: 0.4, mirrors: 0.1, stepMinutes: 2, warmupMinutes: 240,
  flash: { rank: 140, factor: 200, at: 14 * 60, minutes: 60 }, seed: 1,
};

function runPolicy(w: World, net: DemandNetwork, copiesOf: (c: number) => number, log: (l: string) => void, name: string): PolicyResult {
  const { cfg } = w;
  const dt = cfg.stepMinutes;
  // Smoothing over about three minutes; decisions every three minutes (or every step when steps are longer).
  const alpha = 1 - Math.exp(-dt / 3);
  const every = Math.max(1, Math.round(3 / dt));
  let total = 0, over = 0, excess = 0, flashTotal = 0, flashOver = 0, stored = 0, samples = 0;
  let k = 0;
  for (let t = -cfg.warmupMinutes; t < 1440; t += dt, k++) {
    const measured = t >= 0;
    const [tt, oo, ee] = net.step(t, measured, alpha);
    if (measured) {
      total += tt; over += oo; excess += ee;
      if (t >= cfg.flash.at && t < cfg.flash.at + cfg.flash.minutes) { flashTotal += tt; flashOver += oo; }
      stored += net.storedBytes(copiesOf);
      samples++;
      if (t % 240 === 0) log(`${name}: ${String(t / 60).padStart(2)}:00, overloaded so far ${(over / Math.max(total, 1) * 100).toFixed(2)} %`);
    }
    if (net.following && k % every === 0) net.decide(t * 60_000);
  }
  const baseStored = net.storedBytes(() => BASE, false);
  return {
    overloaded: over / total, excess: excess / total, flashOverloaded: flashOver / flashTotal,
    bytesMoved: net.stats.bytesMoved, avgStored: stored / samples, baseStored,
    maxCopies: net.following ? net.stats.maxCopies : Math.max(...Array.from({ length: cfg.contents }, (_, c) => copiesOf(c))),
    peakMirrors: net.stats.peakMirrors, mirrorWakes: net.stats.mirrorWakes, ups: net.stats.ups, downs: net.stats.downs,
  };
}

export function runDemand(cfg: DemandConfig, log: (l: string) => void = () => {}): DemandResult {
  const started = performance.now();
  const w = buildWorld(cfg);
  log(`world built: ${w.unitStart[cfg.contents].toLocaleString('en')} units (${((performance.now() - started) / 1000).toFixed(1)} s)`);
  const three = () => BASE;
  const following = runPolicy(w, new DemandNetwork(w, true, three), three, log, 'following demand');
  // Fixed replication with the same storage: a fourth copy for a fraction of the contents, drawn evenly.
  let bytes = 0;
  for (let u = 0; u < w.unitStart[cfg.contents]; u++) bytes += unitBytes(w, u);
  const fourth = Math.min(1, Math.max(0, following.avgStored / bytes - BASE));
  const fixedCopies = (c: number) => (draw(cfg.seed, `fourth${c}`) < fourth ? BASE + 1 : BASE);
  const fixed = runPolicy(w, new DemandNetwork(w, false, fixedCopies), fixedCopies, log, 'fixed');
  return { fixed, following, fourthCopies: fourth, seconds: (performance.now() - started) / 1000 };
}
