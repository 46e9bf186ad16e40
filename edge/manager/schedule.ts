// A Durable Object has one alarm. Three duties share it: retrying a delete that could not reach
// every node, ending retention at the stamp's expireAt, and auditing reported replicas. The alarm is always set to the
// earliest due duty, recomputed from the record after every change, so neither overwrites the
// other.
import type { ContentRecord } from './store.ts';

export const DELETE_RETRY_MS = 30_000;

/** When the manager must next wake up, or null when nothing is due ever. */
export function nextAlarmAt(record: ContentRecord | null, now: number, auditDue: number | null = null): number | null {
  if (!record) return null;
  if (record.state === 'deleting') return now + DELETE_RETRY_MS;
  const due = [record.expireAt, auditDue ?? undefined].filter((t): t is number => t !== undefined);
  return due.length ? Math.max(now, Math.min(...due)) : null;
}

/** What the alarm should do now: keep deleting, start deleting (retention over), or nothing yet. */
export function dueDuty(record: ContentRecord | null, now: number): 'retry-delete' | 'expire' | null {
  if (!record) return null;
  if (record.state === 'deleting') return 'retry-delete';
  if (record.expireAt !== undefined && now >= record.expireAt) return 'expire';
  return null;
}
