// Text one person writes and others read: names, labels, regions. A character that reorders
// the text around it (U+202E makes `evil\u202Egpj.exe` show as `evilexe.jpg`), or that is not
// shown at all, lets a name look like another. The API refuses them in what it stores, and
// every place that shows stored text (the CLI, the PWA, a saved file's name) passes it through
// visibleText, so that what was stored before the check shows what it really is.

/**
 * Controls (C0, C1), format characters (every bidirectional control, zero-width spaces and
 * joiners, U+2060, U+FEFF, tags…), lone surrogates, line and paragraph separators, the other
 * default-ignorable characters (Hangul fillers, U+034F…) and noncharacters. The emoji and text
 * presentation selectors U+FE0E and U+FE0F are let through: they only pick how the character
 * before them is drawn, and many emoji names carry them.
 */
const HIDDEN = /(?![\uFE0E\uFE0F])[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}\p{Default_Ignorable_Code_Point}\p{Noncharacter_Code_Point}]/u;
const HIDDEN_ALL = new RegExp(HIDDEN.source, 'gu');

/** U+XXXX, as the message and the marker spell a code point. */
export const codePointName = (cp: number) => `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;

/** The first hidden character of `s`: its position (in UTF-16 units) and code point; null when there is none. */
export function hiddenCharacter(s: string): { index: number; codePoint: number } | null {
  const m = HIDDEN.exec(s);
  return m ? { index: m.index, codePoint: m[0].codePointAt(0)! } : null;
}

/** Why `s` may not be stored as a label others will read, or null when it may. */
export function labelProblem(s: string, what = 'text'): string | null {
  const h = hiddenCharacter(s);
  return h && `${what} must not contain invisible, control or direction-changing characters (${codePointName(h.codePoint)} at ${h.index}): they can make it show as something else`;
}

/**
 * `s` with every hidden character replaced, by default with its code point spelled out
 * (`evil<U+202E>gpj.exe`), so that it shows instead of acting; a file name passes `() => '_'`.
 */
export function visibleText(s: string, replace: (codePoint: number) => string = (cp) => `<${codePointName(cp)}>`): string {
  return s.replace(HIDDEN_ALL, (c) => replace(c.codePointAt(0)!));
}
