// Numbers from the Workers' [vars], which arrive as strings: a setting that is absent, empty,
// negative or not a number falls back to its default.

/** A count of seconds (or any non-negative number) from a var, else `fallback`. */
export function seconds(raw: string | undefined, fallback: number): number {
  const n = Number(raw);
  return raw !== undefined && raw !== '' && Number.isFinite(n) && n >= 0 ? n : fallback;
}
