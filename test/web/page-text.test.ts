// The page builds every text through el(): a name stored before names were checked shows its
// hidden characters spelled out on the library, the player and the saved-copy pages alike.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { el } from '../../web/src/format.ts';

type FakeNode = { tag?: string; text?: string; kids: FakeNode[]; appendChild(n: FakeNode): FakeNode };
const node = (o: Partial<FakeNode>): FakeNode => {
  const n: FakeNode = { kids: [], appendChild: (k) => (n.kids.push(k), k), ...o };
  return n;
};

describe('page text', () => {
  afterEach(() => vi.unstubAllGlobals());

  it('spells out what would hide or reorder a name, and leaves other text as it is', () => {
    vi.stubGlobal('document', { createElement: (tag: string) => node({ tag }), createTextNode: (text: string) => node({ text }) });
    const h1 = el('h1', {}, 'evil\u202egpj.exe', ' · ', 'Été.webm') as unknown as FakeNode;
    expect(h1.kids.map((k) => k.text)).toEqual(['evil<U+202E>gpj.exe', ' · ', 'Été.webm']);
    const li = el('li', {}, 'a\u200bb\ud800') as unknown as FakeNode;
    expect(li.kids[0].text).toBe('a<U+200B>b<U+D800>');
  });
});
