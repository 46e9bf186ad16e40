// The sweep's part of demand (claims 4 and 6): it takes from every serving node what it
// delivered to viewers since the last sweep (one call per node, the node's own tally: no write
// per request anywhere), keeps each node's smoothed load and whether it runs hot, hands each
// content's share to its manager (which decides its copies and says where its manager belongs),
// and leaves the standby mirrors to mirrors.ts.
import { nodeHot } from '../../protocol/demand/policy.ts';
import { serves } from '../../protocol/lifecycle/node-state.ts';
import type { PortalEnv } from '../env.ts';
import { demandSettings, smooth } from '../demand-policy.ts';
import { logEvent } from '../registry/events.ts';
import { recordLoad, type NodeRow } from '../registry/nodes.ts';
import { sweepMirrors } from './mirrors.ts';
import { clientFor, takeServedOf } from '../node-client.ts';
import type { ManagerRegion } from '../../protocol/api.ts';
import { handOffManager } from '../manager/handoff.ts';
import { stubByName } from '../manager/home.ts';
import { MANAGER_CALL_MS, within } from '../manager/deadline.ts';
import { managersOf } from '../registry/contents.ts';
import { mapLimit } from '../node/store.ts';

export interface DemandReport {
  /** bytes/s the network delivered (smoothed), and the egress of its serving core nodes; mirrors woken and put back */
  rate: number;
  egress: number;
  contents: number;
  woken: string[];
  rested: string[];
  /** managers moved to where their viewers are */
  moved: { content: string; from: string; to: string; region: string }[];
}

/** Contents whose managers hear from one sweep, busiest first: the rest wait for the next. */
const MAX_CONTENTS = 500;
const PARALLEL = 16;
const MOVES_PER_SWEEP = 4;

export async function sweepDemand(env: PortalEnv, nodes: NodeRow[], healthy: (id: string) => boolean, now: number): Promise<DemandReport> {
  const s = demandSettings(env);
  const client = await clientFor(env);
  const db = env.DB;
  const perContent = new Map<string, { bytes: number; byNode: Record<string, number>; dtMs: number }>();
  const loads = new Map<string, number>();
  await mapLimit(nodes.filter((n) => serves(n.state) && healthy(n.id)), PARALLEL, async (n) => {
    const r = await takeServedOf(client, n).catch(() => null);
    if (!r) return; // not counted this time; its load keeps its last value
    const dtMs = Math.max(1, r.at - r.from);
    const bytes = Object.values(r.contents).reduce((a, b) => a + b, 0) + r.other;
    const load = smooth(n.load, (bytes * 1000) / dtMs, n.load_at === null ? s.smoothMs * 10 : dtMs, s.smoothMs);
    loads.set(n.id, load);
    const egress = n.egress ?? s.nodeEgress;
    const hot = nodeHot(n.hot === 1, load, egress, s.policy);
    const stmts = [recordLoad(db, n.id, load, hot, now)];
    if (hot !== (n.hot === 1)) {
      stmts.push(logEvent(db, { at: now, kind: hot ? 'node-hot' : 'node-cool', node: n.id,
        detail: { load: Math.round(load), egress, share: Number((load / egress).toFixed(3)) } }));
    }
    await db.batch(stmts);
    for (const [content, b] of Object.entries(r.contents)) {
      const e = perContent.get(content) ?? { bytes: 0, byNode: {}, dtMs };
      e.bytes += b;
      e.byNode[n.id] = (e.byNode[n.id] ?? 0) + b;
      e.dtMs = Math.max(e.dtMs, dtMs);
      perContent.set(content, e);
    }
  });

  const busiest = [...perContent].sort((a, b) => b[1].bytes - a[1].bytes).slice(0, MAX_CONTENTS);
  // Only contents the catalog knows (a node's word creates no manager), each at the object in charge.
  const managers = await managersOf(db, busiest.map(([id]) => id));
  const moves: { id: string; to: ManagerRegion }[] = [];
  await mapLimit(busiest.filter(([id]) => managers.has(id)), PARALLEL, async ([id, reading]) => {
    const r = await within(stubByName(env, managers.get(id)!).noteServed(reading), MANAGER_CALL_MS, `manager of ${id}`).catch((err: Error) => {
      console.warn(`demand of ${id} not delivered: ${err.message}`);
      return null;
    });
    if (r?.moveTo) moves.push({ id, to: r.moveTo });
  });
  // Managers follow their viewers (claim 7), a few per sweep: each move copies a manager's state.
  const moved: DemandReport['moved'] = [];
  for (const m of moves.slice(0, MOVES_PER_SWEEP)) {
    const r = await handOffManager(env, m.id, m.to, `its viewers are in ${m.to}`).catch((err: Error) => {
      console.warn(`manager of ${m.id} not moved to ${m.to}: ${err.message}`);
      return null;
    });
    if (r?.moved) moved.push({ content: m.id, from: r.from, to: r.to, region: m.to });
  }

  const mirrors = await sweepMirrors(env, nodes, loads, healthy, s, now);
  const report: DemandReport = { ...mirrors, contents: perContent.size, moved };
  return report;
}
