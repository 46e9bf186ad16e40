// Names that lie: characters that reorder or hide text are found, refused by the API's schemas,
// and spelled out wherever stored text is shown.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CreateProviderRequest, OpenUploadRequest, RegisterNodeRequest } from '../../protocol/api.ts';
import { contentPath } from '../../protocol/serve/content-path.ts';
import { planResponse } from '../../protocol/serve/response-plan.ts';
import { hiddenCharacter, labelProblem, visibleText } from '../../protocol/text.ts';
import type { Manifest } from '../../protocol/manifest.ts';

const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => a + i);
/** Every class the review named, and the rest of the family. */
const HIDDEN: [string, number[]][] = [
  ['bidirectional controls', [0x061c, 0x200e, 0x200f, ...range(0x202a, 0x202e), ...range(0x2066, 0x2069)]],
  ['C0 and C1 controls, DEL', [...range(0x00, 0x1f), 0x7f, ...range(0x80, 0x9f)]],
  ['zero-width characters', [0x200b, 0x200c, 0x200d, 0x2060, 0xfeff]],
  ['other format characters', [0x00ad, 0x180e, 0x2061, 0x2064, 0x206a, 0x206f, 0xfff9, 0xfffb, 0xe0001, 0xe0041, 0x110bd]],
  ['line and paragraph separators', [0x2028, 0x2029]],
  ['invisible fillers', [0x034f, 0x115f, 0x1160, 0x3164, 0xffa0, 0x17b4, 0x180b]],
  ['noncharacters', [0xfdd0, 0xfdef, 0xfffe, 0xffff, 0x1fffe, 0x10ffff]],
];
const LONE = ['\ud800', '\udfff', 'a\ud83d', '\ude00b'];
const FINE = ['film.webm', 'Été à Paris.mp4', '東京の夜.mkv', 'שלום.txt', 'مرحبا.pdf', 'I ❤️ NY.jpg', '🎵 song.mp3', 'a b-c_d (1).tar.gz', 'Ω≈ç√∫'];

describe('hidden characters', () => {
  it.each(HIDDEN)('%s are found wherever they sit', (_what, cps) => {
    for (const cp of cps) {
      const c = String.fromCodePoint(cp);
      expect(hiddenCharacter(`evil${c}gpj.exe`), cp.toString(16)).toEqual({ index: 4, codePoint: cp });
      expect(hiddenCharacter(`${c}x`)?.codePoint).toBe(cp);
      expect(hiddenCharacter(`x${c}`)?.codePoint).toBe(cp);
    }
  });

  it('unpaired surrogates are found; paired ones are characters like any other', () => {
    for (const s of LONE) expect(hiddenCharacter(s), JSON.stringify(s)).not.toBeNull();
    expect(hiddenCharacter('\ud83d\ude00.png')).toBeNull();
  });

  it('ordinary names in any script, with emoji, pass', () => {
    for (const s of FINE) expect(hiddenCharacter(s), s).toBeNull();
  });

  it('are spelled out, so a name shows what it is', () => {
    expect(visibleText('evil\u202egpj.exe')).toBe('evil<U+202E>gpj.exe');
    expect(visibleText('a\u200db\ud800c\u{e0041}')).toBe('a<U+200D>b<U+D800>c<U+E0041>');
    expect(visibleText('evil\u202egpj.exe', () => '_')).toBe('evil_gpj.exe');
    for (const s of FINE) expect(visibleText(s)).toBe(s);
  });

  it('leave nothing hidden once spelled out, for any text (property)', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 40 }), (s) => {
      const shown = visibleText(s);
      expect(hiddenCharacter(shown)).toBeNull();
      expect(visibleText(shown)).toBe(shown);
      expect(labelProblem(shown)).toBeNull();
      expect(hiddenCharacter(s) === null).toBe(shown === s);
    }), { numRuns: 2000 });
  });
});

describe('the API refuses them in what others will read', () => {
  const cases = [...HIDDEN.flatMap(([, cps]) => cps.filter((cp) => cp !== 0x2f).map((cp) => String.fromCodePoint(cp))), ...LONE];

  it('in an upload\'s name, with a message that names the character', () => {
    for (const c of cases) {
      const r = OpenUploadRequest.safeParse({ name: `evil${c}gpj.exe`, size: 1 });
      expect(r.success, JSON.stringify(c)).toBe(false);
    }
    const r = OpenUploadRequest.safeParse({ name: 'evil\u202egpj.exe', size: 1 });
    expect(r.error?.issues[0].message).toMatch(/U\+202E at 4/);
    for (const name of FINE) expect(OpenUploadRequest.safeParse({ name, size: 1 }).success, name).toBe(true);
  });

  it('in a provider\'s name and a node\'s region', () => {
    for (const c of cases) {
      expect(CreateProviderRequest.safeParse({ name: `acme${c}` }).success).toBe(false);
      expect(RegisterNodeRequest.safeParse({ id: 'n1', url: 'http://n1.example', region: `eu${c}west` }).success).toBe(false);
    }
    expect(CreateProviderRequest.safeParse({ name: 'Société Générale' }).success).toBe(true);
    expect(RegisterNodeRequest.safeParse({ id: 'n1', url: 'http://n1.example', region: 'eu-west-1' }).success).toBe(true);
  });
});

describe('stored names are neutralised where they are shown', () => {
  const manifest = (name: string) => ({ id: 'a'.repeat(32), version: 1, name, type: 'image/jpeg', size: 10 }) as Manifest;

  it('in the filename a saved file gets', () => {
    for (const name of ['evil\u202egpj.exe', 'x\ud800y.bin', 'a\u2066b\u2069.txt']) {
      const cd = planResponse(manifest(name), { method: 'GET' }).headers['content-disposition'];
      const filename = decodeURIComponent(/filename\*=UTF-8''(.*)$/.exec(cd)![1]);
      expect(hiddenCharacter(filename), name).toBeNull();
      expect(filename).toMatch(/[_\ufffd]/);
    }
    const cd = planResponse(manifest('Été.jpg'), { method: 'GET' }).headers['content-disposition'];
    expect(decodeURIComponent(/filename\*=UTF-8''(.*)$/.exec(cd)![1])).toBe('Été.jpg');
  });

  it('in a content URL\'s name, which a lone surrogate would otherwise break', () => {
    expect(contentPath('a'.repeat(32), 'evil\u202egpj.exe')).toBe(`/c/${'a'.repeat(32)}/evil_gpj.exe`);
    expect(() => contentPath('a'.repeat(32), 'x\ud800')).not.toThrow();
  });
});
