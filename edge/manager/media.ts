// A content's media index: sent by the uploader with the commit and checked against the
// content here, or built by the edge's own indexer in gateway mode, whose state the manager
// keeps between gateway requests (a resumed gateway upload goes on where the last one was).
import { BunsanError } from '../../protocol/errors.ts';
import { MediaIndex, seekPastEnd } from '../../protocol/media/media-index.ts';
import { MediaIndexer, type IndexerSnapshot } from '../../protocol/media/media-indexer.ts';
import { requireOwner, requireRecord, type Caller, type ManagerDeps } from './deps.ts';
import type { ManagerStore } from './store.ts';

/** The uploader's index, or null without one; a bad one is refused before anything changes. */
export function checkMedia(raw: unknown, size: number): MediaIndex | null {
  if (raw === undefined || raw === null) return null;
  const parsed = MediaIndex.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new BunsanError('invalid_body', `media.${issue.path.join('.')}: ${issue.message}`);
  }
  const past = seekPastEnd(parsed.data, size);
  if (past >= 0) throw new BunsanError('invalid_body', `media.seek.${past}: offset ${parsed.data.seek[past][1]} is past the end of the content (${size} bytes)`);
  return parsed.data;
}

const positionOf = (snap: IndexerSnapshot | null) => {
  try {
    return snap ? new MediaIndexer(snap).position : -1;
  } catch {
    return -1;
  }
};

/** The index the edge built while splitting, if it saw every byte of the content. */
export function gatewayMedia(store: ManagerStore, size: number): MediaIndex | null {
  const snap = store.media<IndexerSnapshot>('indexer');
  if (!snap) return null;
  try {
    const indexer = new MediaIndexer(snap);
    if (indexer.position !== size) return null;
    const media = indexer.finish();
    return media && seekPastEnd(media, size) < 0 ? media : null;
  } catch {
    return null;
  }
}

export function mediaProgress(deps: ManagerDeps, caller: Caller): IndexerSnapshot | null {
  requireOwner(requireRecord(deps.store), caller);
  return deps.store.media<IndexerSnapshot>('indexer');
}

/**
 * Keeps the edge indexer's state. Chunks are fed to it before they are stored, and their saves
 * may arrive out of order, so only a state further on than the kept one replaces it: the kept
 * state then always covers every stored chunk, and a resumed upload never leaves a gap.
 */
export function saveMediaProgress(deps: ManagerDeps, caller: Caller, snap: IndexerSnapshot): void {
  const record = requireRecord(deps.store);
  requireOwner(record, caller);
  if (record.state !== 'uploading') return;
  const at = positionOf(snap);
  if (at < 0 || at > record.size) throw new BunsanError('bad_request', 'the media indexer state does not fit this content');
  // The kept state was checked when it came in: its position is read, not parsed again.
  if (at >= MediaIndexer.positionOf(deps.store.media<IndexerSnapshot>('indexer'))) deps.store.setMedia('indexer', snap);
}
