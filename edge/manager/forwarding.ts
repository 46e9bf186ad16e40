// What a manager object is, besides the content it manages: its own name and placement, and
// whether it is in charge, waiting to take charge (a copy imported, not yet handed over), or
// forwarding to the object it handed over to. Kept under meta keys the state copy leaves out.
import type { ManagerRegion } from '../../protocol/api.ts';
import { seconds } from '../vars.ts';
import type { ManagerStore } from './store.ts';

export interface ManagerSelf { name: string; generation: number; region: ManagerRegion | null }

/** An old object after its hand-off: every call goes to `to`; its storage goes at `until`. */
export interface Forwarding {
  content: string; from: string; to: string; region: ManagerRegion | null; reason: string;
  since: number; until: number;
  /** the registry names `to` (checked by the portal's hand-off or by this object's alarm) */
  switched: boolean;
}

/** A new object holding an imported copy: `complete` once every row arrived and was counted. */
export interface Standby { from: string; token: string; complete: boolean }

/** How long an old object forwards before it deletes its storage (MANAGER_FORWARD_SECONDS, default 600). */
export const forwardMs = (raw: string | undefined) => seconds(raw, 600) * 1000;

/** While the registry switch is not confirmed, the old object checks (and makes) it this often. */
export const SWITCH_RETRY_MS = 30_000;

/** Objects made before managers could move are named by their content id and were placed without a hint. */
export function selfOf(store: ManagerStore): ManagerSelf | null {
  const own = store.meta<ManagerSelf>('self');
  if (own) return own;
  const id = store.record()?.id;
  return id ? { name: id, generation: 0, region: null } : null;
}

export const forwardingOf = (store: ManagerStore) => store.meta<Forwarding>('forward');
export const standbyOf = (store: ManagerStore) => store.meta<Standby>('standby');
