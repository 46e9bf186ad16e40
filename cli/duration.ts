// Periods as people write them on a command line: 90, 90s, 15m, 6h, 7d (seconds when bare).
import { BunsanError } from '../protocol/errors.ts';

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

/** Whole seconds within [min, max]; anything else is a bad_request naming the flag and the bounds. */
export function durationFlag(v: unknown, name: string, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  const m = /^(\d{1,9})([smhd]?)$/.exec(String(v).trim());
  if (!m) throw new BunsanError('bad_request', `--${name} must be a period like 90s, 15m, 6h or 7d (got "${String(v)}")`);
  const seconds = Number(m[1]) * UNITS[m[2] || 's'];
  if (seconds < min || seconds > max) {
    throw new BunsanError('bad_request', `--${name} must be between ${formatDuration(min)} and ${formatDuration(max)} (got ${formatDuration(seconds)})`);
  }
  return seconds;
}

/** The largest unit that divides the period exactly: 60 → 1m, 90 → 90s, 31536000 → 365d. */
export function formatDuration(seconds: number): string {
  for (const u of ['d', 'h', 'm'] as const) if (seconds >= UNITS[u] && seconds % UNITS[u] === 0) return `${seconds / UNITS[u]}${u}`;
  return `${seconds}s`;
}
