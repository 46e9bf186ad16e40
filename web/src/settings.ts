// The settings page (#/settings): every node the portal lists, what this device measured of it,
// and the user's say, to prefer a node or never to ask it. Kept in IndexedDB; the service worker
// and the in-page engine read it before every download. Made for a remote too: each choice is a
// plain button (the arrows move between them, Enter presses), its state in aria-pressed.
import './settings.css';
import type { NodeRecord } from '../../protocol/api.ts';
import type { NodeHistoryEntry } from '../../protocol/engine/node-stats.ts';
import type { NodeChoice } from '../../protocol/engine/session.ts';
import { announceForgotten } from '../../worker/engine-setup.ts';
import { savedHistory } from '../../worker/node-history-idb.ts';
import { readNodeChoice, writeNodeChoice } from '../../worker/node-settings-idb.ts';
import { el, rate } from './format.ts';
import { api, pageEngine } from './portal.ts';

type Mode = 'prefer' | 'exclude' | 'auto';

const modeOf = (c: NodeChoice, id: string): Mode => (c.exclude.includes(id) ? 'exclude' : c.prefer.includes(id) ? 'prefer' : 'auto');

/** The choice with `id` set to `mode` (pressing a pressed button sets it back to automatic). */
function withMode(c: NodeChoice, id: string, mode: Mode): NodeChoice {
  const prefer = c.prefer.filter((x) => x !== id);
  const exclude = c.exclude.filter((x) => x !== id);
  if (mode === 'prefer') prefer.push(id);
  if (mode === 'exclude') exclude.push(id);
  return { prefer, exclude };
}

function measured(e: NodeHistoryEntry | undefined): string {
  if (!e || !(e.updatedAt > 0)) return 'not measured on this device';
  const parts = [e.rate > 0 ? rate(e.rate * 1000) : null, e.latency > 0 ? `${Math.round(e.latency)} ms to answer` : null, `${e.successes} chunks`];
  return `measured: ${parts.filter(Boolean).join(' · ')}`;
}

export async function renderSettings(root: HTMLElement, signal: AbortSignal): Promise<void> {
  const status = el('p', { className: 'muted settings-status', ariaLive: 'polite' }, 'Loading…');
  const list = el('ul', { className: 'node-settings' });
  const clear = el('button', { type: 'button', className: 'clear-choice' }, 'Clear node settings');
  const forget = el('button', { type: 'button', className: 'forget-history' }, 'Forget node history');
  root.replaceChildren(
    el('h1', {}, 'Settings'),
    el('h2', {}, 'Nodes'),
    el('p', { className: 'muted' }, 'A preferred node is asked first unless another is much faster; an excluded node is never asked. Applies to every download on this device.'),
    status, list, el('div', { className: 'settings-actions' }, clear, forget),
  );

  let choice = await readNodeChoice().catch((): NodeChoice => ({ prefer: [], exclude: [] }));
  let history: Record<string, NodeHistoryEntry> = await savedHistory().catch(() => ({}));
  let nodes: Pick<NodeRecord, 'id' | 'url' | 'region' | 'grade' | 'state'>[] = [];
  try {
    nodes = (await api.nodes()).nodes;
    status.textContent = `${nodes.length} nodes`;
  } catch (err) {
    status.className = 'error settings-status';
    status.textContent = `The node list could not be loaded (${(err as Error).message}).`;
  }
  // Nodes set earlier but no longer listed stay visible, so their setting can be undone.
  for (const id of [...choice.prefer, ...choice.exclude]) {
    if (!nodes.some((n) => n.id === id)) nodes.push({ id, url: '', region: '', grade: 0, state: 'retired' });
  }

  const save = async (next: NodeChoice, done: string) => {
    try {
      choice = await writeNodeChoice(next);
      status.className = 'muted settings-status';
      status.textContent = done;
    } catch (err) {
      status.className = 'error settings-status';
      status.textContent = `Not saved: ${(err as Error).message}`;
    }
    show();
  };

  const show = () => {
    const focused = (document.activeElement as HTMLElement | null)?.dataset;
    const again = focused?.node ? `button[data-node="${focused.node}"][data-action="${focused.action}"]` : null;
    list.replaceChildren(...nodes.map((n) => {
      const mode = modeOf(choice, n.id);
      const button = (action: 'prefer' | 'exclude', label: string) => {
        const b = el('button', { type: 'button', className: action }, label);
        Object.assign(b.dataset, { node: n.id, action });
        b.setAttribute('aria-pressed', String(mode === action));
        b.addEventListener('click', () => void save(withMode(choice, n.id, mode === action ? 'auto' : action),
          `${n.id}: ${mode === action ? 'automatic' : action === 'prefer' ? 'preferred' : 'excluded'}`), { signal });
        return b;
      };
      const li = el('li', { className: mode },
        el('span', { className: 'node-id' }, n.id),
        el('span', { className: 'muted node-url' }, n.url || 'no longer listed'),
        el('span', { className: 'muted' }, [n.region, n.url ? `grade ${n.grade}` : '', n.state === 'active' ? '' : n.state].filter(Boolean).join(' · ')),
        el('span', { className: 'muted node-measured' }, measured(n.url ? history[n.url] : undefined)),
        el('span', { className: 'node-buttons' }, button('prefer', 'Prefer'), button('exclude', 'Exclude')),
      );
      li.dataset.node = n.id;
      li.dataset.mode = mode;
      return li;
    }));
    // Re-rendering must not throw a remote user's focus back to the top of the page.
    if (again) list.querySelector<HTMLElement>(again)?.focus();
  };
  show();

  clear.addEventListener('click', () => void save({ prefer: [], exclude: [] }, 'Node settings cleared: every node is chosen automatically.'), { signal });
  forget.addEventListener('click', async () => {
    try {
      await pageEngine().forget();
      announceForgotten();
      history = {};
      status.className = 'muted settings-status';
      status.textContent = 'Node history forgotten: nodes are measured afresh.';
    } catch (err) {
      status.className = 'error settings-status';
      status.textContent = `Not forgotten: ${(err as Error).message}`;
    }
    show();
  }, { signal });
}
