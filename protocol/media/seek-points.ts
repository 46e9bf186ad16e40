// Seek points as a parser finds them, kept to at most MAX_SEEK_POINTS however long the media:
// past the limit every other point is dropped and from then on only every stride-th is taken,
// so what is kept stays evenly spread over the file. Plain data, so it can be saved and resumed.
import { MAX_SEEK_POINTS, type SeekPoint } from './media-index.ts';

export interface SeekPointsState {
  /** 'any' keeps every piece until the first one that starts with a video keyframe; 'key' only those */
  mode: 'any' | 'key';
  stride: number;
  /** points offered in this mode: the n-th is kept when n is a multiple of the stride */
  offered: number;
  /** seconds and offsets, interleaved */
  flat: number[];
}

export const newSeekPoints = (): SeekPointsState => ({ mode: 'any', stride: 1, offered: 0, flat: [] });

/** Microsecond precision is more than any player seeks to and keeps the JSON short. */
const seconds = (s: number) => Math.round(s * 1e6) / 1e6;

/**
 * Offers the start of a self-contained piece (a Cluster or moof). `key` says whether it starts
 * with a video keyframe (always true for media without video): once one does, only those count.
 */
export function offerPoint(p: SeekPointsState, time: number, offset: number, key: boolean, limit = MAX_SEEK_POINTS): void {
  if (!Number.isFinite(time) || time < 0) return;
  if (key && p.mode === 'any') Object.assign(p, newSeekPoints(), { mode: 'key' });
  if (!key && p.mode === 'key') return;
  const n = p.flat.length;
  // Out-of-order pieces (a broken muxer) are dropped: the index must ascend in both.
  if (n > 0 && (time < p.flat[n - 2] || offset <= p.flat[n - 1])) return;
  if (p.offered++ % p.stride !== 0) return;
  p.flat.push(seconds(time), offset);
  if (p.flat.length / 2 > limit) {
    // Kept points are the offered ones whose number is a multiple of the stride; doubling it
    // keeps the even positions, and later points go on with the same spacing.
    p.flat = p.flat.filter((_, i) => (i >> 1) % 2 === 0);
    p.stride *= 2;
  }
}

export function seekPoints(p: SeekPointsState): SeekPoint[] {
  const out: SeekPoint[] = [];
  for (let i = 0; i < p.flat.length; i += 2) out.push([p.flat[i], p.flat[i + 1]]);
  return out;
}

export function lastPointTime(p: SeekPointsState): number | null {
  return p.flat.length > 0 ? p.flat[p.flat.length - 2] : null;
}
