// Standby mirrors (claim 6), the sweep's part: per region, the load its nodes delivered against
// the egress of its serving core nodes wakes the region's standby mirrors, or puts awake ones
// back once demand has passed (protocol/demand/mirrors.ts decides). Per region, because viewers
// are served near them: one region's evening is not cancelled out by another's night (the
// simulation found a network-wide total never woke a mirror).
import { decideMirrors, mirrorsHighSince } from '../../protocol/demand/mirrors.ts';
import { serves } from '../../protocol/lifecycle/node-state.ts';
import type { PortalEnv } from '../env.ts';
import type { DemandSettings } from '../demand-policy.ts';
import { demandByRegion, putDemand } from '../registry/demand.ts';
import { logEvent } from '../registry/events.ts';
import { setNodeStateIf, type NodeRow } from '../registry/nodes.ts';
import { openTask } from '../registry/tasks.ts';

export interface MirrorReport { rate: number; egress: number; woken: string[]; rested: string[] }

/** `loads`: this sweep's smoothed load per node (the stored one for nodes not read this time). */
export async function sweepMirrors(
  env: PortalEnv, nodes: NodeRow[], loads: Map<string, number>, healthy: (id: string) => boolean, s: DemandSettings, now: number,
): Promise<MirrorReport> {
  const db = env.DB;
  const prev = await demandByRegion(db);
  const report: MirrorReport = { rate: 0, egress: 0, woken: [], rested: [] };
  const egressOf = (n: NodeRow) => n.egress ?? s.nodeEgress;
  for (const region of [...new Set(nodes.map((n) => n.region))].sort()) {
    const here = nodes.filter((n) => n.region === region);
    const rate = here.filter((n) => serves(n.state)).reduce((a, n) => a + (loads.get(n.id) ?? n.load), 0);
    const egress = here.filter((n) => n.mirror === 0 && serves(n.state) && n.state !== 'draining' && healthy(n.id)).reduce((a, n) => a + egressOf(n), 0);
    report.rate += rate;
    report.egress += egress;
    const highSince = mirrorsHighSince(prev.get(region)?.high_since ?? null, rate, egress, now, s.policy);
    await putDemand(db, region, { rate, high_since: highSince, at: now }).run();
    const mirrors = here.filter((n) => n.mirror === 1 && (n.state === 'standby' ? healthy(n.id) && n.failures === 0 : n.state === 'active' || n.state === 'joining'));
    if (mirrors.length === 0) continue;
    const { wake, rest } = decideMirrors({
      demand: rate, activeEgress: egress, highSince, now, policy: s.policy,
      mirrors: mirrors.map((n) => ({ id: n.id, awake: n.state !== 'standby', since: n.state_since, egress: egressOf(n), held: n.bytes_held })),
    });
    const detail = { region, rate: Math.round(rate), egress };
    for (const w of wake) {
      const n = here.find((x) => x.id === w.id)!;
      const [set] = await db.batch([setNodeStateIf(db, n.id, { state: n.state, since: n.state_since }, 'active', `woken: ${w.reason}`, now)]);
      if (!set.meta.changes) continue; // an operator changed it meanwhile: their change stands
      await logEvent(db, { at: now, kind: 'node-woken', node: n.id, detail: { reason: w.reason, ...detail } }).run();
      report.woken.push(n.id);
    }
    for (const r of rest) {
      const n = here.find((x) => x.id === r.id)!;
      const [set] = await db.batch([setNodeStateIf(db, n.id, { state: n.state, since: n.state_since }, 'draining', `resting: ${r.reason}`, now)]);
      if (!set.meta.changes) continue;
      await logEvent(db, { at: now, kind: 'node-rested', node: n.id, detail: { reason: r.reason, ...detail } }).run();
      // Its copies leave as a drain's do (copy-then-delete where one is still needed), then it is standby again.
      await openTask(db, { kind: 'node', node: n.id, reason: `${n.id} resting`, at: now });
      report.rested.push(n.id);
    }
  }
  return report;
}
