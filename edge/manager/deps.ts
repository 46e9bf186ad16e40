import type { PortalEnv } from '../env.ts';
import type { ManagerStore, ContentRecord } from './store.ts';
import type { DemandBook } from './demand-book.ts';
import { BunsanError } from '../../protocol/errors.ts';

/** What every manager flow gets: bindings, its store, the signing key, a clock and fetch. */
export interface ManagerDeps {
  env: PortalEnv;
  store: ManagerStore;
  key: CryptoKey;
  now: () => number;
  fetch: typeof fetch;
  /** the content's demand, kept in the manager's memory between requests (absent in flows that do not need it) */
  book?: DemandBook;
}

export interface Caller { providerId: string; admin: boolean }

export function requireRecord(store: ManagerStore): ContentRecord {
  const r = store.record();
  if (!r) throw new BunsanError('content_not_found', 'no such content');
  return r;
}

/** Only the provider who opened an upload (or an operator) may change it. */
export function requireOwner(record: ContentRecord, caller: Caller): void {
  if (!caller.admin && caller.providerId !== record.providerId) {
    throw new BunsanError('forbidden', 'this content belongs to another provider');
  }
}
