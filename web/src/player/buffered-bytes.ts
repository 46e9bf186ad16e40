// Which bytes of the content are in the SourceBuffer now, for the chunk map. The buffer speaks
// in seconds; the seek index turns seconds into bytes at the granularity of its points (a WebM
// Cluster, an fMP4 fragment: about a keyframe interval). A piece counts whole when any of its
// time is buffered, so the result may overstate by up to one piece at each end of a buffered
// range; clipping to the bytes the player actually appended since the last seek keeps a piece
// that is only partly read from claiming bytes that were never fetched. The head before the
// first point (the init segment) is parsed, not buffered, so it is never counted.
import type { SeekPoint } from '../../../protocol/media/media-index.ts';
import { pointIndexAt } from './seek-index.ts';

/** [start, end) in bytes, or in seconds for a time range. */
export type Span = [start: number, end: number];

/** A media element's TimeRanges as plain pairs. */
export function timeSpans(b: TimeRanges): Span[] {
  const out: Span[] = [];
  for (let i = 0; i < b.length; i++) out.push([b.start(i), b.end(i)]);
  return out;
}

/** Tolerance for the float noise between buffered times and the index's times. */
const EPS = 1e-3;

/**
 * The byte ranges holding the buffered `times`, through the index `seek`, clipped to
 * `appended` (the bytes appended since the buffer was last emptied). Empty without an index:
 * then seconds cannot be turned into bytes, and guessing would show chunks that are not there.
 */
export function bufferedBytes(times: readonly Span[], seek: readonly SeekPoint[], size: number, appended: Span): Span[] {
  if (seek.length === 0) return [];
  const out: Span[] = [];
  for (const [from, to] of times) {
    if (to - from <= EPS) continue;
    const first = pointIndexAt(seek, from + EPS);
    let last = pointIndexAt(seek, to - EPS); // the last piece that starts before the range ends
    if (seek[last][0] >= to - EPS) last--; // `to` before every point: nothing of the media is here
    if (last < first) continue;
    const start = Math.max(seek[first][1], appended[0]);
    const end = Math.min(last + 1 < seek.length ? seek[last + 1][1] : size, appended[1]);
    if (end <= start) continue;
    const prev = out.at(-1);
    if (prev && start <= prev[1]) prev[1] = Math.max(prev[1], end);
    else out.push([start, end]);
  }
  return out;
}

/** The chunks that hold any byte of `ranges`; `starts` are the chunks' offsets, ascending from 0. */
export function chunksIn(ranges: readonly Span[], starts: readonly number[]): number[] {
  const out: number[] = [];
  for (const [start, end] of ranges) {
    let i = Math.max(0, upperBound(starts, start) - 1);
    if (out.length && out.at(-1)! >= i) i = out.at(-1)! + 1;
    for (; i < starts.length && starts[i] < end; i++) out.push(i);
  }
  return out;
}

/** How many of `sorted` are at or below `x`. */
function upperBound(sorted: readonly number[], x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid] <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
