// What an operator does to nodes: add one (checked to speak the node protocol and to take our
// tokens), drain it, undrain it, retire it. Each change is recorded with its reason, logged,
// and handed to the managers concerned through the sweep's tasks; none of them loses a copy
// that a chunk still needs (retire refuses, unless forced for a node that is gone for good).
import type { z } from 'zod';
import type { AddNodeRequest, NodeStatus, RegisterNodeRequest } from '../../protocol/api.ts';
import { takesCopies } from '../../protocol/lifecycle/node-state.ts';
import { BunsanError } from '../../protocol/errors.ts';
import type { PortalEnv } from '../env.ts';
import { maxReplicas } from '../registry/contents.ts';
import { logEvent } from '../registry/events.ts';
import { copiesOnlyOn, getNode, insertNode, listNodes, setNodeState, updateNodeFields, type NodeRow } from '../registry/nodes.ts';
import { orphanCount } from '../registry/orphans.ts';
import { openTask } from '../registry/tasks.ts';
import { backlogByNode, NO_WORK, type NodeBacklog } from '../registry/work.ts';
import { clientFor, healthOf, inventoryPage } from '../node-client.ts';
import { sweeperOf } from './sweeper.ts';
import { demandSettings } from '../demand-policy.ts';

const STANDBY_REASON = "standby mirror: holds nothing until demand nears the active nodes' egress";

async function requireNode(env: PortalEnv, id: string): Promise<NodeRow> {
  const n = await getNode(env.DB, id);
  if (!n) throw new BunsanError('node_not_found', `no node ${id}`);
  return n;
}

async function handOver(env: PortalEnv, t: Parameters<typeof openTask>[1]): Promise<void> {
  await openTask(env.DB, t);
  await sweeperOf(env).kick();
}

export async function addNode(env: PortalEnv, req: z.output<typeof AddNodeRequest>, now: number): Promise<NodeRow> {
  const probe = { id: req.id ?? req.url, url: req.url };
  const health = await healthOf({ fetch: (u, i) => fetch(u, i) }, probe).catch((err: BunsanError) => {
    throw new BunsanError('bad_request', `${req.url} cannot be added: ${err.message}`);
  });
  if (req.id && health.node !== req.id) throw new BunsanError('conflict', `${req.url} is node ${health.node}, not ${req.id}`);
  const id = req.id ?? health.node;
  const known = await getNode(env.DB, id);
  if (known && known.state !== 'retired') throw new BunsanError('conflict', `node ${id} is already registered (${known.state})`);
  // It must take our management tokens: a node configured with another network's key would
  // accept nothing we send it.
  await inventoryPage(await clientFor(env), { id, url: req.url }, null, 1).catch((err: BunsanError) => {
    throw new BunsanError('bad_request', `node ${id} at ${req.url} refuses this network's tokens: ${err.message}`);
  });
  const fields = {
    id, url: req.url, region: req.region || health.region || '', grade: req.grade, weight: req.weight, capacity: req.capacity ?? null,
    egress: req.egress ?? null, mirror: req.standby,
  };
  await env.DB.batch([
    req.standby
      ? insertNode(env.DB, fields, 'standby', STANDBY_REASON, now)
      : insertNode(env.DB, fields, 'joining', 'added: receiving its share', now),
    logEvent(env.DB, { at: now, kind: 'node-added', node: id, detail: fields }),
  ]);
  // A standby mirror holds nothing until demand wakes it: no content has anything to give it yet.
  if (!req.standby) await handOver(env, { kind: 'all', reason: `${id} joined`, at: now });
  return (await getNode(env.DB, id))!;
}

/** The operator's PUT: a new node it vouches for, or new attributes of a known one (never its state). */
export async function registerNode(env: PortalEnv, n: z.output<typeof RegisterNodeRequest>, now: number): Promise<void> {
  const known = await getNode(env.DB, n.id);
  if (known && n.state !== undefined && n.state !== known.state) {
    throw new BunsanError('conflict', `node ${n.id} is ${known.state}: change its state with drain, undrain or retire`);
  }
  const stmts = known && known.state !== 'retired'
    ? [updateNodeFields(env.DB, n, now)]
    : [insertNode(env.DB, { ...n, mirror: n.state === 'standby' }, n.state ?? 'active', n.state === 'standby' ? STANDBY_REASON : 'registered by the operator', now)];
  await env.DB.batch([...stmts, logEvent(env.DB, { at: now, kind: 'node-registered', node: n.id, detail: n })]);
  // New attributes (a weight, a region) can change where copies belong.
  if (known && (known.weight !== n.weight || known.region !== n.region || known.grade !== n.grade)) {
    await handOver(env, { kind: 'all', reason: `${n.id} changed`, at: now });
  }
}

async function changeState(env: PortalEnv, n: NodeRow, to: NodeRow['state'], reason: string, now: number, detail: Record<string, unknown> = {}) {
  await env.DB.batch([
    setNodeState(env.DB, n.id, to, reason, now),
    logEvent(env.DB, { at: now, kind: 'node-state', node: n.id, detail: { from: n.state, to, reason, ...detail } }),
  ]);
  await handOver(env, { kind: 'node', node: n.id, reason: `${n.id} ${to}`, at: now });
}

export async function drainNode(env: PortalEnv, id: string, now: number): Promise<NodeRow> {
  const n = await requireNode(env, id);
  if (n.state === 'draining') return n;
  if (!takesCopies(n.state)) throw new BunsanError('conflict', `node ${id} is ${n.state}; only a joining or active node can be drained${n.state === 'down' ? ` (retire --force if it is gone for good)` : ''}`);
  const takers = (await listNodes(env.DB)).filter((x) => x.id !== id && takesCopies(x.state)).length;
  const need = await maxReplicas(env.DB);
  if (takers < need) {
    throw new BunsanError('not_enough_nodes', `draining ${id} would leave ${takers} nodes to hold contents of ${need} replicas: add a node first`);
  }
  await changeState(env, n, 'draining', 'drained by the operator: its copies move to other nodes', now);
  return requireNode(env, id);
}

export async function undrainNode(env: PortalEnv, id: string, now: number): Promise<NodeRow> {
  const n = await requireNode(env, id);
  if (n.state !== 'draining') throw new BunsanError('conflict', `node ${id} is ${n.state}, not draining`);
  await changeState(env, n, 'active', 'undrained by the operator', now);
  return requireNode(env, id);
}

export async function retireNode(env: PortalEnv, id: string, force: boolean, now: number): Promise<NodeRow> {
  const n = await requireNode(env, id);
  if (n.state === 'retired') return n;
  const only = await copiesOnlyOn(env.DB, id);
  if (only > 0 && !force) {
    throw new BunsanError('conflict',
      `node ${id} still holds copies that ${only} chunks need to keep their replica count: drain it (bunsan nodes drain ${id}), which retires it when it is empty, or --force if it is gone for good`,
      { chunks: only });
  }
  await changeState(env, n, 'retired', force ? `retired by force: its copies are treated as lost${only ? ` (${only} chunks short)` : ''}` : 'retired by the operator', now,
    { forced: force, chunksShort: only });
  return requireNode(env, id);
}

/** Every node as the operator sees it. */
export async function nodeStatuses(env: PortalEnv): Promise<NodeStatus[]> {
  const [nodes, backlog, orphans] = await Promise.all([listNodes(env.DB), backlogByNode(env.DB), orphanCount(env.DB)]);
  const egress = demandSettings(env).nodeEgress;
  return nodes.map((n) => toStatus(n, backlog.get(n.id), orphans.get(n.id) ?? 0, egress));
}

export function toStatus(n: NodeRow, work?: NodeBacklog, orphans = 0, defaultEgress?: number): NodeStatus {
  return {
    id: n.id, url: n.url, region: n.region, grade: n.grade, weight: n.weight, state: n.state,
    stateReason: n.state_reason, stateSince: n.state_since, capacity: n.capacity, chunksHeld: n.chunks_held, bytesHeld: n.bytes_held,
    health: { lastSeenAt: n.last_seen_at, lastCheckAt: n.last_check_at, failures: n.failures, lastError: n.last_error },
    backlog: { ...NO_WORK, contents: 0, ...work },
    orphans,
    egress: n.egress ?? defaultEgress, load: Math.round(n.load), hot: n.hot === 1, mirror: n.mirror === 1,
  };
}
