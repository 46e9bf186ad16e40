// The proxy at work, while it plays: one cell per chunk coloured by the node that delivered it
// (outlined when a node failed it first, underlined while its bytes are in the media buffer),
// a live throughput chart and totals per node.
import type { EngineEvent } from '../../../protocol/engine/events.ts';
import { bytes, el, rate } from '../format.ts';
import { throughputChart } from './throughput-chart.ts';

/** A colour per node; the golden angle keeps ids that differ by one character far apart. */
function hue(node: string): number {
  let h = 0;
  for (const c of node) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  return Math.round((h * 137.508) % 360);
}

export interface ChunkMap {
  root: HTMLElement;
  onEvent: (e: EngineEvent) => void;
  /** marks the chunks in the media buffer now (ascending indices); the player calls it on append, eviction and seek */
  setBuffered: (chunks: readonly number[]) => void;
}

export function chunkMap(count: number): ChunkMap {
  const cells = Array.from({ length: count }, (_, i) => el('span', { title: `chunk ${i}` }));
  const nodes = new Map<string, { bytes: number; ms: number; chunks: number; failures: number }>();
  const table = el('div', { className: 'stats node-table' });
  const chart = throughputChart((id) => `hsl(${hue(id)} 70% 60%)`);
  const legend = el('p', { className: 'muted' }, 'Colour: the node that delivered the chunk · red outline: a node failed it first · underline: in the media buffer now');
  const root = el('section', { ariaLabel: 'chunk map' }, el('h2', {}, 'Chunks and nodes'), legend, el('div', { className: 'chunk-map' }, ...cells), chart.root, table);
  let buffered = new Set<number>();
  const node = (id: string) => {
    let n = nodes.get(id);
    if (!n) nodes.set(id, (n = { bytes: 0, ms: 0, chunks: 0, failures: 0 }));
    return n;
  };
  let dirty = false;
  const redraw = () => {
    dirty = false;
    table.replaceChildren(...[...nodes].map(([id, n]) => {
      const d = el('div', { className: 'node' }, el('b', {}, id), `${n.chunks} chunks, ${bytes(n.bytes)}, ${rate(n.ms ? (n.bytes * 1000) / n.ms : 0)}`, n.failures ? ` · ${n.failures} failed` : '');
      d.style.borderLeft = `6px solid hsl(${hue(id)} 70% 60%)`;
      return d;
    }));
  };
  return {
    root,
    setBuffered(chunks) {
      const now = new Set(chunks);
      for (const i of buffered) if (!now.has(i)) cells[i]?.classList.remove('buffered');
      for (const i of now) if (!buffered.has(i)) cells[i]?.classList.add('buffered');
      buffered = now;
    },
    onEvent(e) {
      if (e.type === 'chunk-done') {
        const n = node(e.node);
        n.bytes += e.bytes;
        n.ms += e.ms;
        n.chunks++;
        chart.add(e.node, e.bytes);
        if (cells[e.index]) {
          cells[e.index].style.background = `hsl(${hue(e.node)} 70% 60%)`;
          cells[e.index].dataset.node = e.node;
        }
      } else if (e.type === 'chunk-failed') {
        node(e.node).failures++;
        cells[e.index]?.classList.add('retried');
      } else return;
      if (!dirty) {
        dirty = true;
        requestAnimationFrame(redraw);
      }
    },
  };
}
