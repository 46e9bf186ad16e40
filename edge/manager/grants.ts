// Issuing and revoking grants (protocol/grants.ts). Only the owner or the operator may do either;
// every grant is recorded so that a revocation, and only a known grant, can be checked locally.
import type { GrantResponse, RevokeGrantResponse } from '../../protocol/api.ts';
import { toHex } from '../../protocol/bytes.ts';
import { randomBytes } from '../../protocol/crypto-like.ts';
import { BunsanError } from '../../protocol/errors.ts';
import { issueGrant } from '../../protocol/grants.ts';
import { logEvent } from '../registry/events.ts';
import { requireOwner, requireRecord, type Caller, type ManagerDeps } from './deps.ts';
import type { GrantStore } from './grant-store.ts';

export async function createGrant(
  deps: ManagerDeps, grants: GrantStore, caller: Caller, req: { ttlSeconds: number; label?: string },
): Promise<GrantResponse> {
  const record = requireRecord(deps.store);
  requireOwner(record, caller);
  if (record.state === 'deleting') throw new BunsanError('content_not_found', 'content is being deleted');
  const now = deps.now();
  const id = toHex(randomBytes(crypto, 16));
  const exp = Math.floor(now / 1000) + req.ttlSeconds;
  const grant = await issueGrant(crypto, deps.key, { t: 'grant', c: record.id, id, exp });
  grants.add(id, req.label ?? null, exp, now);
  await logEvent(deps.env.DB, { at: now, kind: 'grant-issued', content: record.id, detail: { id, exp, label: req.label ?? null } }).run();
  return { id, grant, expiresAt: exp * 1000 };
}

export async function revokeGrant(deps: ManagerDeps, grants: GrantStore, caller: Caller, id: string): Promise<RevokeGrantResponse> {
  const record = requireRecord(deps.store);
  requireOwner(record, caller);
  if (!grants.get(id)) throw new BunsanError('grant_not_found', 'no such grant for this content');
  const now = deps.now();
  const row = grants.revoke(id, now)!;
  if (row.revoked_at === now) {
    await logEvent(deps.env.DB, { at: now, kind: 'grant-revoked', content: record.id, detail: { id } }).run();
  }
  return { id, revokedAt: row.revoked_at! };
}
