// The library: every listed content, searchable by name, type and size, each with a player
// link and its plain URL (which the service worker answers, so it can be opened or saved).
import type { ContentSummary } from '../../protocol/api.ts';
import { contentPath } from '../../protocol/serve/content-path.ts';
import { bytes, el } from './format.ts';
import { filterLibrary, KINDS, SIZES, type LibraryQuery } from './library-filter.ts';
import { savedItems } from './offline.ts';
import { api } from './portal.ts';

type LibraryItem = Pick<ContentSummary, 'id' | 'name' | 'type' | 'size'>;

async function listAll(): Promise<ContentSummary[]> {
  const all: ContentSummary[] = [];
  let cursor: string | undefined;
  do {
    const page = await api.list(cursor);
    all.push(...page.contents);
    cursor = page.cursor ?? undefined;
  } while (cursor && all.length < 10_000);
  return all;
}

export async function renderLibrary(root: HTMLElement): Promise<void> {
  const q: LibraryQuery = { text: '', kind: 'all', size: 'any' };
  const text = el('input', { type: 'search', placeholder: 'Search by name or type', ariaLabel: 'search' });
  const kind = el('select', { ariaLabel: 'type' }, ...KINDS.map((k) => el('option', { value: k }, k === 'all' ? 'any type' : k)));
  const size = el('select', { ariaLabel: 'size' }, ...Object.keys(SIZES).map((s) => el('option', { value: s }, s === 'any' ? 'any size' : s)));
  const list = el('ul', { className: 'items' });
  const status = el('p', { className: 'muted' }, 'Loading…');
  root.replaceChildren(el('h1', {}, 'Library'), el('div', { className: 'filters' }, text, kind, size), status, list);

  let items: LibraryItem[] = [];
  const show = () => {
    const shown = filterLibrary(items, q);
    status.textContent = `${shown.length} of ${items.length} items`;
    list.replaceChildren(...shown.map((c) => {
      const li = el('li', {},
        el('a', { className: 'name', href: `#/play/${c.id}` }, c.name),
        el('span', { className: 'muted' }, c.type || 'unknown type'),
        el('span', { className: 'muted' }, bytes(c.size)),
        el('a', { href: contentPath(c.id, c.name), target: '_blank', rel: 'noopener' }, 'open'),
      );
      li.dataset.id = c.id;
      return li;
    }));
  };
  text.addEventListener('input', () => { q.text = text.value; show(); });
  kind.addEventListener('change', () => { q.kind = kind.value; show(); });
  size.addEventListener('change', () => { q.size = size.value; show(); });
  try {
    items = await listAll();
    show();
  } catch (err) {
    // Portal unreachable: what is saved on this device still plays.
    items = (await savedItems().catch(() => [])).filter((i) => i.complete);
    show();
    status.className = 'error';
    status.textContent = `The library could not be loaded (${(err as Error).message}); ${items.length} saved items are listed.`;
  }
}
