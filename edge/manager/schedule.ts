// A Durable Object has one alarm. Its duties share it: retrying a delete that could not reach
// every node, ending retention at the stamp's expireAt, auditing reported replicas, reconciling
// copies with the directory, and removing an upload left idle (its due time is the last
// progress plus UPLOAD_IDLE_SECONDS, passed only while the content is uploading). The alarm is
// always set to the earliest due duty, recomputed after every change, so none overwrites another.
import type { ContentRecord } from './store.ts';

export const DELETE_RETRY_MS = 30_000;

/** When the manager must next wake up, or null when nothing is due ever. */
export function nextAlarmAt(record: ContentRecord | null, now: number, ...dues: (number | null)[]): number | null {
  if (!record) return null;
  if (record.state === 'deleting') return now + DELETE_RETRY_MS;
  const due = [record.expireAt, ...dues].filter((t): t is number => t !== undefined && t !== null);
  return due.length ? Math.max(now, Math.min(...due)) : null;
}

/** What the alarm should do now: keep deleting, start deleting (retention over, or an upload abandoned), or nothing yet. */
export function dueDuty(record: ContentRecord | null, now: number, idleDue: number | null = null): 'retry-delete' | 'expire' | 'abandoned' | null {
  if (!record) return null;
  if (record.state === 'deleting') return 'retry-delete';
  if (record.expireAt !== undefined && now >= record.expireAt) return 'expire';
  if (record.state === 'uploading' && idleDue !== null && now >= idleDue) return 'abandoned';
  return null;
}
