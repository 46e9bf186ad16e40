// Moving a content's manager to another region (claim 7; source document figs. 21-27). The
// portal asks the object in charge to hand over; it copies its state to a new object placed
// near `toRegion` and starts forwarding (handoff-send.ts); then the registry row is switched to
// the new object — only while it still names the old one — and `manager-moved` is logged. If
// the switch does not happen now, nothing is lost: the old object forwards every call and its
// alarm makes the switch itself. The demand measurement (another part of the sweep) calls
// handOffManager when a content's viewers are mostly elsewhere.
import type { ManagerRegion } from '../../protocol/api.ts';
import { BunsanError } from '../../protocol/errors.ts';
import type { PortalEnv } from '../env.ts';
import { fromRpc } from '../http.ts';
import { getContent, managerName, switchManager } from '../registry/contents.ts';
import { logEvent } from '../registry/events.ts';
import { within } from './deadline.ts';
import { stubByName } from './home.ts';
import type { HandOffStep } from './handoff-send.ts';

/** The old object copies the whole state inside this (its pages have their own deadlines). */
export const HANDOFF_MS = 60_000;

export type HandOffResult = HandOffStep;

/**
 * Switches the registry from `from` to `to` (if it still names `from`) and logs the move; true
 * when the registry names someone else than `from` afterwards (switched now or before, or the
 * content is gone).
 */
export async function completeSwitch(env: PortalEnv, content: string, step: HandOffStep, now: number): Promise<boolean> {
  const r = await switchManager(env.DB, content, step.from, step.to, step.region).run();
  if (r.meta.changes) {
    await logEvent(env.DB, { at: now, kind: 'manager-moved', content, detail: { from: step.from, to: step.to, region: step.region, reason: step.reason } }).run();
    return true;
  }
  const row = await getContent(env.DB, content);
  return !row || managerName(row) !== step.from;
}

/**
 * Hands content `contentId` to a new manager object near `toRegion`. Returns what happened:
 * moved, or not (already there, or another hand-off got there first: `to` is where it went).
 * Throws for a content unknown or being deleted, or a hand-off that failed (the old object stays
 * in charge, nothing changed).
 */
export async function handOffManager(env: PortalEnv, contentId: string, toRegion: ManagerRegion, reason: string): Promise<HandOffResult> {
  const row = await getContent(env.DB, contentId);
  if (!row) throw new BunsanError('content_not_found', `no content ${contentId}`);
  if (row.state === 'deleting') throw new BunsanError('conflict', `content ${contentId} is being deleted: its manager stays where it is`);
  const from = managerName(row);
  if (row.manager_region === toRegion) return { moved: false, from, to: from, region: toRegion, reason: `the manager is already in ${toRegion}` };
  const step = fromRpc(await within(stubByName(env, from).handOff({ region: toRegion, reason }), HANDOFF_MS, `manager ${from} (hand-off)`));
  // The old object forwards from here on; a switch that fails now is made by its alarm.
  await completeSwitch(env, contentId, step, Date.now()).catch((err: Error) => console.warn(`registry switch of ${contentId} to ${step.to} deferred: ${err.message}`));
  await within(stubByName(env, step.to).activate(), 5_000, `manager ${step.to} (activate)`).catch(() => null);
  return step.moved ? step : { ...step, reason: `another hand-off moved the manager to ${step.to} first (${step.reason})` };
}
