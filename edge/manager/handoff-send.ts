// The old object's side of a hand-off (source document figs. 21-27: "the old sends its
// distribution-server info"). It runs inside the old object's blockConcurrencyWhile, so no
// request interleaves: the whole state goes to the new object page by page, the new object
// counts what it got, and only then does the old object drop its state and mark itself
// forwarding, in one transaction. Before that mark the old object is in charge and whatever the
// new one holds counts for nothing (it is discarded now, or overwritten by a retry); after it
// the new one is, and the old forwards every call.
import type { ManagerRegion } from '../../protocol/api.ts';
import { toHex } from '../../protocol/bytes.ts';
import { randomBytes } from '../../protocol/crypto-like.ts';
import { BunsanError } from '../../protocol/errors.ts';
import type { PortalEnv } from '../env.ts';
import { fromRpc } from '../http.ts';
import { MANAGER_CALL_MS, within } from './deadline.ts';
import { forwardMs, SWITCH_RETRY_MS, type Forwarding, type ManagerSelf } from './forwarding.ts';
import { nextManagerName, stubByName } from './home.ts';
import { exportPages, rowCounts, wipeContent } from './snapshot.ts';
import type { ManagerStore } from './store.ts';

/** The copy (every page and both ends) must be done within this, or the hand-off is called off. */
export const COPY_BUDGET_MS = 20_000;

export interface HandOffRequest { region: ManagerRegion; reason: string }
/** What a hand-off did: `moved` false when the object had already handed over (to `to`). */
export interface HandOffStep { moved: boolean; from: string; to: string; region: ManagerRegion | null; reason: string }

export interface SendContext {
  env: PortalEnv; store: ManagerStore; sql: SqlStorage; storage: DurableObjectStorage; self: ManagerSelf; contentId: string; now: () => number;
}

export async function sendState(c: SendContext, req: HandOffRequest): Promise<HandOffStep> {
  const { name: to, generation } = nextManagerName(c.contentId, c.self.name);
  const target = stubByName(c.env, to, req.region);
  const token = toHex(randomBytes(crypto, 16));
  // blockConcurrencyWhile resets an object that holds it for 30 s: the whole copy stays well inside.
  const end = c.now() + COPY_BUDGET_MS;
  const call = <T>(p: Promise<T>, what: string) => within(p, Math.max(1, Math.min(MANAGER_CALL_MS, end - c.now())), `manager ${to} (${what})`);
  try {
    fromRpc(await call(target.importBegin(c.self.name, token), 'import begin'));
    for (const page of exportPages(c.sql)) fromRpc(await call(target.importPage(token, page), `import of ${page.table}`));
    fromRpc(await call(target.importFinish(token, { name: to, generation, region: req.region }, rowCounts(c.sql)), 'import finish'));
  } catch (err) {
    // Still in charge: the partial copy there is thrown away (or overwritten by the next try).
    await within(target.discardImport(token), MANAGER_CALL_MS, 'discard').catch(() => null);
    const why = err instanceof Error ? err.message : String(err);
    if (err instanceof BunsanError && err.code !== 'manager_unreachable') throw new BunsanError(err.code, `hand-off to ${to} refused, ${c.self.name} stays in charge: ${why}`);
    throw new BunsanError('manager_unreachable', `hand-off to ${to} failed, ${c.self.name} stays in charge: ${why}`);
  }
  const now = c.now();
  const fwd: Forwarding = {
    content: c.contentId, from: c.self.name, to, region: req.region, reason: req.reason,
    since: now, until: now + forwardMs(c.env.MANAGER_FORWARD_SECONDS), switched: false,
  };
  c.storage.transactionSync(() => {
    wipeContent(c.sql);
    c.store.setMeta('forward', fwd);
  });
  // No reconcile pass or retention timer here any more: the alarm only checks the registry
  // switch and, after the window, deletes what is left.
  await c.storage.setAlarm(now + SWITCH_RETRY_MS);
  return { moved: true, from: c.self.name, to, region: req.region, reason: req.reason };
}
