// Who may have a content's manifest, and so its key. The owner and the operator always (before
// the publish time too: the owner uploaded the bytes and already holds the secret). Anyone else
// needs the content to be public, or a valid, unrevoked grant for it, and the current time inside
// the window signed into the upload stamp. Credentials are checked before the window, so a
// caller without one learns nothing about a private item's schedule.
import { BunsanError } from '../../protocol/errors.ts';
import { verifyGrant } from '../../protocol/grants.ts';
import { verifyingKey } from '../keys.ts';
import type { Caller, ManagerDeps } from './deps.ts';
import type { GrantStore } from './grant-store.ts';
import type { ContentRecord } from './store.ts';

/** What the portal learned about a manifest request: an identified provider/operator, a grant, or neither. */
export interface ViewerAccess {
  caller?: Caller; grant?: string;
  /** who asks and from where, for demand (edge/portal/viewer.ts); absent: not counted */
  viewer?: { key: string; region: string };
}

export async function authorizeViewer(
  deps: ManagerDeps, grants: GrantStore, record: ContentRecord, access: ViewerAccess,
): Promise<void> {
  const now = deps.now();
  const c = access.caller;
  const owner = !!c && (c.admin || c.providerId === record.providerId);
  if (!owner && record.visibility === 'private') {
    if (!access.grant) throw new BunsanError('unauthorized', 'this content is private: a grant is required');
    const g = await verifyGrant(crypto, await verifyingKey(deps.env.SIGNING_PUBLIC_KEY), access.grant, record.id, now);
    const row = grants.get(g.id);
    if (!row) throw new BunsanError('token_invalid', 'unknown grant');
    if (row.revoked_at !== null) throw new BunsanError('grant_revoked', 'the grant has been revoked');
  }
  if (record.expireAt !== undefined && now >= record.expireAt) {
    // Retention has ended and the alarm is deleting it everywhere: nobody gets keys any more.
    throw new BunsanError('content_expired', 'this content has expired', { expireAt: record.expireAt });
  }
  if (!owner && record.publishAt !== undefined && now < record.publishAt) {
    throw new BunsanError('not_published', 'this content is not published yet', { publishAt: record.publishAt });
  }
}
