// The time → byte index a player seeks with: points where a self-contained piece of media
// starts (a WebM Cluster, an fMP4 moof), read from the file's own index (WebM Cues, fMP4
// mfra) with two or three small Range reads, so a seek fetches from there and no earlier.
import { mp4SeekIndex } from './mp4-index.ts';
import { webmSeekIndex } from './webm-index.ts';

export interface SeekPoint { time: number; offset: number }

export interface SeekIndex {
  points: SeekPoint[];
  /** total seconds, when the file says or the index lets us estimate it; NaN otherwise */
  duration: number;
}

/** Reads bytes [start, end] (inclusive) of the content. */
export type ReadRange = (start: number, end: number) => Promise<Uint8Array>;

export async function loadSeekIndex(container: string, head: Uint8Array, size: number, read: ReadRange): Promise<SeekIndex> {
  try {
    if (container === 'webm') return await webmSeekIndex(head, read);
    if (container === 'mp4') return await mp4SeekIndex(head, size, read);
  } catch (err) {
    console.warn('no seek index; seeking stays within what is buffered', err);
  }
  return { points: [], duration: NaN };
}

/** The last point at or before `time` (the first point when `time` is before them all). */
export function pointFor(index: SeekIndex, time: number): SeekPoint | null {
  let best: SeekPoint | null = null;
  for (const p of index.points) {
    if (p.time <= time + 1e-6) best = p;
    else break;
  }
  return best ?? index.points[0] ?? null;
}
