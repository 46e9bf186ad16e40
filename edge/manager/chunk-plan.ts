// A content's chunk plan as the manager uses it: the rows of registered chunks, and for the rest
// the span the plan gives, computed when a chunk is registered (edge/manager/store.ts).
import { chunkPlan } from '../../protocol/split.ts';
import type { ChunkRow, ContentRecord, ManagerStore } from './store.ts';

/** The row of each named chunk of the plan, registered or not; indices outside the plan are absent. */
export async function plannedChunks(store: ManagerStore, record: ContentRecord, indices: number[]): Promise<Map<number, ChunkRow>> {
  const plan = chunkPlan(crypto, record.size, record.chunking);
  const out = new Map<number, ChunkRow>();
  // In order, so that spans of one block are drawn once.
  for (const idx of [...new Set(indices)].sort((a, b) => a - b)) {
    if (idx >= record.chunkCount) break;
    const row = store.chunk(idx);
    const span = row ? null : await plan.span(idx);
    if (row) out.set(idx, row);
    else if (span) out.set(idx, { idx, off: span.offset, len: span.length, sealed_len: null, hash: null });
  }
  return out;
}
