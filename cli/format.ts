import { visibleText } from '../protocol/text.ts';

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let u = 0;
  let v = n;
  while (v >= 1024 && u < units.length - 1) { v /= 1024; u++; }
  return `${u === 0 ? v : v.toFixed(1)} ${units[u]}`;
}

/** Rows as aligned columns; a cell's hidden characters are spelled out first (protocol/text.ts). */
export function table(raw: string[][]): string {
  const rows = raw.map((r) => r.map((c) => visibleText(c)));
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => r[i]?.length ?? 0))) ?? [];
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd()).join('\n');
}

/**
 * What the CLI prints for people: every line with hidden characters spelled out, so a name
 * shows what it is (`evil<U+202E>gpj.exe`), never what it pretends.
 */
export const shown = (text: string) => text.split('\n').map((l) => visibleText(l)).join('\n');

/** JSON for programs: the same data, with hidden characters as \u escapes, so a terminal shows them too. */
export const jsonShown = (value: unknown) => visibleText(JSON.stringify(value), (cp) =>
  (cp > 0xffff ? [0xd800 + ((cp - 0x10000) >> 10), 0xdc00 + ((cp - 0x10000) & 0x3ff)] : [cp]).map((u) => `\\u${u.toString(16).padStart(4, '0')}`).join(''));
