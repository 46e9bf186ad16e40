// The life of a distribution node, and what each state allows. Shared by the portal (which
// moves nodes between states), the managers (which place and move copies by them), the CLI and
// the simulation.
//   joining   added, or back from down: receives its share; a returning node's old copies are
//             checked before they are served again
//   active    serves and receives
//   draining  serves reads, receives nothing; its copies are made elsewhere, then deleted here
//   down      failed its health checks: serves nothing; its copies count as present during a
//             grace period (a restart is not a loss), then as lost
//   retired   gone: holds nothing the network counts
//   standby   a mirror of the standby pool (claim 6): holds nothing and serves nothing until
//             demand nears the active nodes' capacity; then it is woken (active, taking only
//             demand copies), and when demand passes it is drained back to standby
import { z } from 'zod';

export const NodeState = z.enum(['standby', 'joining', 'active', 'draining', 'down', 'retired']);
export type NodeState = z.infer<typeof NodeState>;

/** May receive new copies (uploads, repairs, its rendezvous share). */
export const takesCopies = (s: NodeState) => s === 'joining' || s === 'active';

/** May be read from: by clients (manifests list it) and as the source of a copy. */
export const serves = (s: NodeState) => s === 'joining' || s === 'active' || s === 'draining';

/**
 * Stays in the rendezvous set that decides where a chunk's copies belong. A node down within
 * its grace period keeps its place, so a short outage moves nothing (as Ceph keeps a down OSD
 * "in" until it is marked out); once lost, or draining, or retired, its share goes elsewhere.
 */
export const keepsPlace = (s: NodeState, lost: boolean) => takesCopies(s) || (s === 'down' && !lost);

/** A down node's copies are treated as lost once it has been down longer than the grace period. */
export const isLost = (n: { state: NodeState; stateSince: number }, now: number, graceMs: number) =>
  n.state === 'retired' || (n.state === 'down' && now - n.stateSince >= graceMs);
