// The new object's side of a hand-off: it takes the old object's rows in three kinds of steps,
// each one transaction. It refuses to import over a content it is in charge of (or forwarding
// for): only an empty object, or one holding an earlier try's copy, takes a hand-off.
import { BunsanError } from '../../protocol/errors.ts';
import { forwardingOf, standbyOf, type ManagerSelf } from './forwarding.ts';
import { countMismatches, importPage, wipeContent, type SnapshotPage } from './snapshot.ts';
import type { ManagerStore } from './store.ts';

export interface ReceiveContext { store: ManagerStore; sql: SqlStorage; storage: DurableObjectStorage }

export function beginImport(c: ReceiveContext, from: string, token: string): void {
  if (forwardingOf(c.store)) throw new BunsanError('conflict', 'this manager object has handed its content over already');
  if (c.store.record() && !standbyOf(c.store)) throw new BunsanError('conflict', 'this manager object is in charge of a content: it takes no hand-off');
  c.storage.transactionSync(() => {
    wipeContent(c.sql);
    c.store.setMeta('standby', { from, token, complete: false });
  });
}

function requireToken(c: ReceiveContext, token: string): void {
  const s = standbyOf(c.store);
  if (!s || s.token !== token) throw new BunsanError('conflict', 'no hand-off under way with this token (a newer try took over)');
}

export function receivePage(c: ReceiveContext, token: string, page: SnapshotPage): void {
  requireToken(c, token);
  c.storage.transactionSync(() => importPage(c.sql, page));
}

export function finishImport(c: ReceiveContext, token: string, self: ManagerSelf, counts: Record<string, number>): void {
  requireToken(c, token);
  const missing = countMismatches(c.sql, counts);
  if (missing.length) throw new BunsanError('conflict', `the copy is incomplete (${missing.join('; ')})`);
  if (!c.store.record()) throw new BunsanError('conflict', 'the copy has no content record');
  c.storage.transactionSync(() => {
    c.store.setMeta('self', self);
    c.store.setMeta('standby', { ...standbyOf(c.store)!, complete: true });
  });
}

/** A try that did not finish: its rows go (only that try's; a newer one is left alone). */
export function discardImport(c: ReceiveContext, token: string): boolean {
  const s = standbyOf(c.store);
  if (!s || s.token !== token) return false;
  c.storage.transactionSync(() => {
    wipeContent(c.sql);
    c.store.setMeta('standby', null);
    c.store.setMeta('self', null);
  });
  return true;
}
