// When to start playing (source document [0066]: the amount to buffer is set automatically from
// the measured server speed). If the download (r bytes/s) is slower than the media consumes
// (b bytes/s), playback of D seconds outruns it unless D·(1 − r/b) seconds are buffered first;
// if it is faster, a small floor is enough. A margin covers the estimate's noise.
export interface GateInput {
  /** measured download rate, bytes per second of wall time */
  throughput: number;
  /** bytes per second of media, measured from what was appended */
  bitrate: number;
  /** total media seconds; NaN or Infinity when the container does not say */
  duration: number;
  /** content size in bytes, to estimate the duration when the container does not say */
  size: number;
}

export const GATE_DEFAULTS = { minimum: 1, margin: 1.25 } as const;

/** Seconds of media that must be buffered before play; Infinity while nothing is measured yet. */
export function neededBufferSeconds(i: GateInput, o: { minimum?: number; margin?: number } = {}): number {
  const minimum = o.minimum ?? GATE_DEFAULTS.minimum;
  const margin = o.margin ?? GATE_DEFAULTS.margin;
  if (!(i.throughput > 0) || !(i.bitrate > 0)) return Infinity;
  const duration = Number.isFinite(i.duration) && i.duration > 0 ? i.duration : i.size / i.bitrate;
  const deficit = 1 - i.throughput / i.bitrate;
  const needed = deficit > 0 ? margin * duration * deficit : 0;
  // Never more than the whole media: at worst, start when everything is buffered.
  return Math.min(Math.max(needed, minimum), duration);
}
