// The sweep: run by the control plane's cron trigger (locally, a timer), and by an operator who
// asks for one. It checks every node's health, moves nodes between states by the rules of
// protocol/lifecycle/transitions.ts, and hands the work that follows — repairs, drains, a new
// node's share, checks of copies on a node that came back — to the managers of the contents
// concerned, through tasks that the Sweeper walks in slices. It never loops over every content
// itself: a cron invocation has about 30 s of CPU, and there may be millions.
import { nextChange, type Change } from '../../protocol/lifecycle/transitions.ts';
import { BunsanError } from '../../protocol/errors.ts';
import type { PortalEnv } from '../env.ts';
import { contentsBehind } from '../registry/contents.ts';
import { logEvent } from '../registry/events.ts';
import { listNodes, markLost, markRecovered, recordHealth, refreshUsage, setNodeStateIf, type NodeRow } from '../registry/nodes.ts';
import { placementCount } from '../registry/placements.ts';
import { lastDone, openTask, openTasks, pendingFor, pruneTasks } from '../registry/tasks.ts';
import { backlogByNode } from '../registry/work.ts';
import { downGraceMs } from '../manager/directory.ts';
import { seconds } from '../vars.ts';
import { healthOf } from '../node-client.ts';
import { deleteRipeOrphans } from './inventory.ts';
import { sweepDemand, type DemandReport } from './demand-sweep.ts';
import { sweeperOf } from './sweeper.ts';

export interface SweepReport {
  at: number;
  checked: number;
  changes: { node: string; from: string; to: string; reason: string }[];
  tasks: number;
  /** what the nodes delivered, and the mirrors woken or put back (null: the demand step failed this time) */
  demand: DemandReport | null;
}

const PARALLEL_CHECKS = 32;

async function checkAll(env: PortalEnv, nodes: NodeRow[]): Promise<Map<string, string | null>> {
  const out = new Map<string, string | null>();
  let next = 0;
  const worker = async () => {
    while (next < nodes.length) {
      const n = nodes[next++];
      const err = await healthOf({ fetch: (u, i) => fetch(u, i) }, n).then((h) => (h.node === n.id ? null : `answers as node ${h.node}`),
        (e: unknown) => (e instanceof BunsanError ? e.message : String(e)));
      out.set(n.id, err);
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL_CHECKS, nodes.length) }, worker));
  return out;
}

export async function runSweep(env: PortalEnv, now = Date.now()): Promise<SweepReport> {
  const db = env.DB;
  const nodes = (await listNodes(db)).filter((n) => n.state !== 'retired');
  const health = await checkAll(env, nodes);
  // A self-hosted node also reports, signed, at a steady interval: one whose reports stopped is
  // failing as surely as one that does not answer.
  const silence = seconds(env.REPORT_SILENCE_SECONDS, 300) * 1000;
  for (const n of nodes) {
    const heard = n.report_at ?? n.created_at;
    if (n.public_key !== null && health.get(n.id) === null && now - heard > silence) {
      health.set(n.id, `no signed report for ${Math.round((now - heard) / 1000)} s`);
    }
  }
  await db.batch([...nodes.map((n) => recordHealth(db, n.id, now, health.get(n.id) ?? null)), refreshUsage(db)]);

  const rules = { downAfterFailures: Math.max(1, seconds(env.DOWN_AFTER_FAILURES, 2)), graceMs: downGraceMs(env) };
  const backlog = await backlogByNode(db);
  const joinWalkOpen = await pendingFor(db, 'all', null);
  const behind = nodes.some((n) => n.state === 'joining') && !joinWalkOpen ? await contentsBehind(db) : 1;
  const report: SweepReport = { at: now, checked: nodes.length, changes: [], tasks: 0, demand: null };
  // Demand before the state rules: a mirror woken now is active for them, one put back is draining.
  report.demand = await sweepDemand(env, nodes, (id) => health.get(id) === null, now)
    .catch((err: Error) => (console.warn(`demand step of the sweep failed: ${err.message}`), null));
  const moved = new Map<string, NodeRow['state']>([
    ...(report.demand?.woken ?? []).map((id) => [id, 'active'] as const), ...(report.demand?.rested ?? []).map((id) => [id, 'draining'] as const),
  ]);
  const current = nodes.map((n) => (moved.has(n.id) ? { ...n, state: moved.get(n.id)!, state_since: now } : n));

  for (const n of current) {
    const error = health.get(n.id) ?? null;
    const owed = backlog.get(n.id);
    const empty = n.state === 'draining' && !owed && !(await pendingFor(db, 'node', n.id)) && (await placementCount(db, n.id)) === 0;
    const change = nextChange(
      { state: n.state, stateSince: n.state_since, prior: n.prior_state, failures: error === null ? 0 : n.failures + 1, lostAt: n.lost_at, mirror: n.mirror === 1 },
      { now, error, shareReceived: behind === 0 && (!owed || owed.copiesIn + owed.checks === 0), empty },
      rules,
    );
    if (change) await apply(env, n, change, now, report);
  }

  // Every copy is checked on its node now and then (a node can lose data without failing).
  const verifyMs = seconds(env.VERIFY_EVERY_SECONDS, 86_400) * 1000;
  const lastWalk = await lastDone(db, 'all');
  if (!joinWalkOpen && (lastWalk === null || now - lastWalk >= verifyMs)) {
    await openTask(db, { kind: 'all', reason: 'verify', at: now });
  }
  // The inventory reconciliation: every node's holdings against the placement index, now and then.
  const inventoryMs = seconds(env.INVENTORY_EVERY_SECONDS, 21_600) * 1000;
  for (const n of nodes) {
    if (n.state === 'down' || n.inventory_cursor !== null || (await pendingFor(db, 'inventory', n.id))) continue;
    if (n.inventory_pass_at === null || now - n.inventory_pass_at >= inventoryMs) {
      await openTask(db, { kind: 'inventory', node: n.id, reason: 'reconcile', at: now });
    }
  }
  await deleteRipeOrphans(env, now);
  await pruneTasks(db, now - 7 * 86_400_000).run();
  const open = await openTasks(db);
  report.tasks = open.length;
  if (open.length > 0) await sweeperOf(env).kick();
  return report;
}

async function apply(env: PortalEnv, n: NodeRow, c: Change, now: number, report: SweepReport): Promise<void> {
  const db = env.DB;
  if (c.kind === 'lost') {
    await db.batch([markLost(db, n.id, now), logEvent(db, { at: now, kind: 'node-lost', node: n.id, detail: { reason: c.reason } })]);
    await openTask(db, { kind: 'node', node: n.id, reason: `${n.id} lost`, at: now });
    report.changes.push({ node: n.id, from: n.state, to: 'lost', reason: c.reason });
    return;
  }
  const [set] = await db.batch([setNodeStateIf(db, n.id, { state: n.state, since: n.state_since }, c.to, c.reason, now, c.prior ?? null)]);
  if (!set.meta.changes) return; // an operator changed the node meanwhile: their change stands
  await db.batch([
    ...(c.recovered ? [markRecovered(db, n.id, now)] : []),
    logEvent(db, { at: now, kind: 'node-state', node: n.id, detail: { from: n.state, to: c.to, reason: c.reason } }),
  ]);
  report.changes.push({ node: n.id, from: n.state, to: c.to, reason: c.reason });
  // Back from down: its copies are checked (and, if it was lost, its share given back), and its
  // inventory is read back against the registry (what it holds that nobody counts on any more).
  if (c.recovered) {
    await openTask(db, { kind: n.lost_at !== null ? 'all' : 'node', node: n.lost_at !== null ? undefined : n.id, reason: `${n.id} back`, at: now });
    await openTask(db, { kind: 'inventory', node: n.id, reason: 'reconcile', at: now });
  }
}
