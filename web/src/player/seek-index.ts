// The time → byte index a player seeks with, as the uploader built it into the manifest
// (manifest.media): points where a self-contained piece of media starts (a WebM Cluster, an
// fMP4 moof). A seek fetches from the last point at or before the wanted time and no earlier,
// with no reads of the file's own index at play time (not every file has one).
import type { SeekPoint } from '../../../protocol/media/media-index.ts';

export type { SeekPoint };

/** The position of the last point at or before `time` (0 when `time` is before them all); -1 with no points. */
export function pointIndexAt(seek: readonly SeekPoint[], time: number): number {
  if (seek.length === 0) return -1;
  let lo = 0;
  let hi = seek.length - 1;
  // 1 µs of slack: a time read back from the element may be a hair below the point it was set to.
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (seek[mid][0] <= time + 1e-6) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** The point a seek to `time` fetches from, or null when there is no index. */
export function pointFor(seek: readonly SeekPoint[], time: number): SeekPoint | null {
  const i = pointIndexAt(seek, time);
  return i < 0 ? null : seek[i];
}
