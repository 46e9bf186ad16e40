// The node directory as a manager plans with it: read from the registry at call time (so
// managers always use the URLs and states the registry holds now, never ones frozen at upload),
// with each node's grace period already judged: a node down past it is `lost`, a node at its
// capacity is `full`.
import { isLost, serves } from '../../protocol/lifecycle/node-state.ts';
import type { PlanNode } from '../../protocol/lifecycle/target.ts';
import type { PortalEnv } from '../env.ts';
import { demandSettings } from '../demand-policy.ts';
import { seconds } from '../vars.ts';
import { listNodes, type NodeRow } from '../registry/nodes.ts';

/** A node that reaches its capacity to within this share takes no new copy. */
const FULL_AT = 0.98;

export interface DirNode extends PlanNode {
  url: string;
  /** copies verified before this time (the node's return from down) are checked again */
  recoveredAt: number;
  stateSince: number;
  reason: string;
  /** demand: bytes/s it can deliver (the default when it does not say) and delivered, hot, of the standby pool */
  egress: number;
  load: number;
  hot: boolean;
  mirror: boolean;
}

export type Directory = Map<string, DirNode>;

export const downGraceMs = (env: PortalEnv) => seconds(env.DOWN_GRACE_SECONDS, 900) * 1000;


export function toDirNode(r: NodeRow, now: number, graceMs: number, defaultEgress: number): DirNode {
  return {
    egress: r.egress ?? defaultEgress, load: r.load, hot: r.hot === 1, mirror: r.mirror === 1,
    // A woken mirror holds demand copies only: the content's base copies stay on the core nodes.
    demandOnly: r.mirror === 1,
    id: r.id, url: r.url, region: r.region, weight: r.weight, grade: r.grade, state: r.state,
    lost: isLost({ state: r.state, stateSince: r.state_since }, now, graceMs),
    full: r.capacity !== null && r.bytes_held >= r.capacity * FULL_AT,
    recoveredAt: r.recovered_at ?? 0, stateSince: r.state_since, reason: r.state_reason,
  };
}

export async function loadDirectory(env: PortalEnv, now: number): Promise<Directory> {
  const grace = downGraceMs(env);
  const egress = demandSettings(env).nodeEgress;
  return new Map((await listNodes(env.DB)).map((r) => [r.id, toDirNode(r, now, grace, egress)]));
}

/** Can a client (or a copy) read from this node now? */
export const readable = (n: DirNode | undefined): boolean => !!n && serves(n.state);

/**
 * The directory as uploads see it: a node down now (even within its grace period) takes none of
 * a new upload's copies; once it is back, reconciling gives it its share.
 */
export function uploadDirectory(dir: Directory): Directory {
  return new Map([...dir].map(([id, n]) => [id, n.state === 'down' ? { ...n, lost: true } : n]));
}
