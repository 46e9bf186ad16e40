// The player page: MediaSource playback of the reassembled stream (through the service worker
// or the in-page engine), the start-up figures, and the chunk map with what is buffered. Media
// the player cannot take through MSE plays from the content URL the service worker answers.
import type { EngineEvent } from '../../../protocol/engine/events.ts';
import { contentPath } from '../../../protocol/serve/content-path.ts';
import { ENGINE_CHANNEL, type RelayedEvent } from '../../../protocol/serve/engine-channel.ts';
import { bitrate, bytes, el, rate, seconds } from '../format.ts';
import type { Manifest } from '../../../protocol/manifest.ts';
import type { MediaIndex } from '../../../protocol/media/media-index.ts';
import { chunkPlan } from '../../../protocol/split.ts';
import { savedItems } from '../offline.ts';
import { contentSource, cryptoLike } from '../portal.ts';
import type { ProxyMode } from '../sw-connect.ts';
import { chunksIn } from './buffered-bytes.ts';
import { inPageSource, serviceWorkerSource } from './byte-source.ts';
import { chunkMap } from './chunk-map.ts';
import { playWithMse, type PlayerStats } from './mse-player.ts';
import { offlinePanel } from './offline-panel.ts';

/** What tests and curious users can read: window.bunsanPlayer. */
export interface PlayerState extends Partial<PlayerStats> {
  id: string;
  mode: ProxyMode;
  path?: 'mse' | 'element';
  /** the engine's chunk outcomes, oldest first (bounded): which node delivered or failed which chunk */
  chunks: { index: number; node: string; ok: boolean; at: number }[];
  /** the chunks whose bytes are in the SourceBuffer now, ascending */
  bufferedChunks: number[];
}
declare global { interface Window { bunsanPlayer?: PlayerState } }

/** What the page shows and plays: the manifest when the portal answers, the saved copy's facts when it does not. */
interface PlayInfo {
  id: string; name: string; type: string; size: number; chunks: number; nodes: number; manifest: Manifest | null;
  /** the seek index built at upload, when the content is media */
  media: MediaIndex | null;
  /** each chunk's first byte, to place buffered bytes on the chunk map (empty when not known) */
  chunkStarts: number[];
}

async function loadInfo(id: string, mode: ProxyMode, grant?: string): Promise<PlayInfo> {
  try {
    const m = await contentSource.manifest(id, grant);
    return {
      id, name: m.name, type: m.type, size: m.size, chunks: m.chunks.length, nodes: m.nodes.length, manifest: m,
      media: m.media ?? null, chunkStarts: m.chunks.map((c) => c.offset),
    };
  } catch (err) {
    const saved = mode === 'service-worker' ? (await savedItems().catch(() => [])).find((i) => i.id === id && i.complete) : undefined;
    if (!saved) throw err;
    // The saved copy keeps the index and the chunking, so seeking and the map work with the network down.
    const chunkStarts: number[] = [];
    if (saved.chunking) for await (const c of chunkPlan(cryptoLike, saved.size, saved.chunking).spans()) chunkStarts.push(c.offset);
    return {
      id, name: saved.name, type: saved.type, size: saved.size, chunks: saved.chunks, nodes: 0, manifest: null,
      media: saved.media ?? null, chunkStarts,
    };
  }
}

export async function renderPlayer(root: HTMLElement, id: string, mode: ProxyMode, signal: AbortSignal, opts: { maxAhead?: number; grant?: string } = {}): Promise<void> {
  const m = await loadInfo(id, mode, opts.grant);
  const url = contentPath(m.id, m.name) + (opts.grant ? `?grant=${encodeURIComponent(opts.grant)}` : '');
  const media = m.type.startsWith('audio/') ? el('audio', { controls: true }) : el('video', { controls: true, playsInline: true });
  const play = el('button', { type: 'button', className: 'play' }, 'Play');
  const figures = el('div', { className: 'stats', ariaLive: 'polite' });
  const note = el('p', { className: 'muted' });
  const map = chunkMap(m.chunks);
  root.replaceChildren(
    el('h1', {}, m.name),
    el('p', { className: 'muted' }, `${m.type || 'unknown type'} · ${bytes(m.size)} · ${m.chunks} chunks${m.manifest ? ` on ${m.nodes} nodes` : ', saved copy'} · `,
      el('a', { href: url }, 'plain URL')),
    media, el('p', {}, play), figures, note, offlinePanel(id, signal, opts.grant), map.root,
  );
  const state: PlayerState = (window.bunsanPlayer = { id, mode, chunks: [], bufferedChunks: [] });
  const onEvent = (e: EngineEvent) => {
    map.onEvent(e);
    if (e.type !== 'chunk-done' && e.type !== 'chunk-failed') return;
    state.chunks.push({ index: e.index, node: e.node, ok: e.type === 'chunk-done', at: performance.now() });
    if (state.chunks.length > 4096) state.chunks.splice(0, 1024);
  };
  if (mode === 'service-worker') listenToServiceWorker(id, onEvent, signal);
  const show = (s: PlayerStats) => {
    Object.assign(state, s);
    state.bufferedChunks = chunksIn(s.bufferedBytes, m.chunkStarts);
    map.setBuffered(state.bufferedChunks);
    figures.replaceChildren(
      fig('buffer needed to play through', seconds(s.needed)), fig('buffered ahead', seconds(s.ahead)),
      fig('download speed', rate(s.throughput)), fig('media bitrate', bitrate(s.bitrate)),
      fig('time to first frame', s.firstFrameMs === null ? '–' : `${Math.round(s.firstFrameMs)} ms`), fig('proxy', mode),
    );
    note.textContent = s.error ?? (s.unsupported ? `Not streamable through MediaSource: ${s.unsupported}.` : s.mime ? `MediaSource: ${s.mime}` : '');
  };

  play.addEventListener('click', async () => {
    play.disabled = true;
    const pressedAt = performance.now();
    const source = mode === 'service-worker' || !m.manifest ? serviceWorkerSource(url, m.size) : inPageSource(m.manifest, onEvent, opts.grant);
    try {
      const how = 'MediaSource' in window
        ? await playWithMse({ video: media as HTMLVideoElement, source, size: m.size, media: m.media, pressedAt, onStats: show, signal, maxAhead: opts.maxAhead })
        : 'unsupported';
      state.path = 'mse';
      if (how === 'unsupported') playFromUrl(media, url, mode, state, note, pressedAt);
    } catch (err) {
      if (signal.aborted) return;
      state.state = 'error';
      state.error = (err as Error).message;
      note.className = 'error';
      note.textContent = `Playback failed: ${state.error}`;
    }
  }, { signal });
}

/** Other media: the element fetches the content URL itself, with Range, from the service worker. */
function playFromUrl(media: HTMLMediaElement, url: string, mode: ProxyMode, state: PlayerState, note: HTMLElement, pressedAt: number) {
  state.path = 'element';
  if (mode !== 'service-worker') {
    note.textContent += ' Playing it needs the service worker, which does not control this page (reload to let it).';
    return;
  }
  note.textContent += ' The browser plays it from the service worker\'s URL instead, fetching byte ranges as it goes.';
  media.addEventListener('playing', () => { state.firstFrameMs = performance.now() - pressedAt; }, { once: true });
  media.src = url;
  void media.play().catch((err) => { note.textContent = `play() refused: ${(err as Error).message}`; });
  state.state = 'playing';
}

function listenToServiceWorker(id: string, onEvent: (e: EngineEvent) => void, signal: AbortSignal): void {
  if (typeof BroadcastChannel === 'undefined') return;
  const ch = new BroadcastChannel(ENGINE_CHANNEL);
  ch.onmessage = (e: MessageEvent<RelayedEvent>) => { if (e.data?.id === id) onEvent(e.data.event); };
  signal.addEventListener('abort', () => ch.close(), { once: true });
}

const fig = (label: string, value: string) => el('div', {}, el('b', {}, value), label);
