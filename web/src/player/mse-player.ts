// Progressive playback through MediaSource: read the reassembled stream, append it to a
// SourceBuffer in slices through one queue, and start playing once the buffer covers what the
// measured download speed and the media's bitrate say is needed. Reading pauses while the
// buffer is far ahead and what is well behind the play head is removed, so memory stays
// bounded. A seek outside the buffer restarts the stream at the index point before it.
import { AppendQueue } from './append-queue.ts';
import { readRange, type ByteSource } from './byte-source.ts';
import { sniffMedia } from './media-sniff.ts';
import { loadSeekIndex, pointFor } from './seek-index.ts';
import { neededBufferSeconds } from './start-gate.ts';
import { StreamReader } from './stream-reader.ts';
import { bufferedEnd, evictBehind, isBuffered, nextTimeUpdate, watchFirstFrame } from './video-element.ts';

const HEAD_BYTES = 64 * 1024; // enough for a WebM SeekHead and Tracks, or an fMP4 moov
const SLICE = 512 * 1024;
const MAX_AHEAD_S = 60; // default; the engine's window and the stream's buffers add to it
const KEEP_BEHIND_S = 10;

export interface PlayerStats {
  state: 'opening' | 'buffering' | 'playing' | 'loaded' | 'unsupported' | 'error';
  mime: string | null;
  received: number;
  throughput: number;
  bitrate: number;
  needed: number;
  ahead: number;
  firstFrameMs: number | null;
  seeks: number;
  error: string | null;
}

export interface MsePlayOptions {
  video: HTMLVideoElement;
  source: ByteSource;
  size: number;
  /** when the user pressed play (performance.now()), for the time to first frame */
  pressedAt: number;
  onStats: (s: PlayerStats) => void;
  signal: AbortSignal;
  /** seconds buffered ahead of the play head before reading pauses */
  maxAhead?: number;
}

/** Plays `source` in `video`; resolves 'unsupported' (nothing appended) when MSE cannot take it. */
export async function playWithMse(o: MsePlayOptions): Promise<'played' | 'unsupported'> {
  const { video, signal } = o;
  const s: PlayerStats = { state: 'opening', mime: null, received: 0, throughput: 0, bitrate: 0, needed: Infinity, ahead: 0, firstFrameMs: null, seeks: 0, error: null };
  const report = () => o.onStats({ ...s });
  const openedAt = performance.now();
  const count = (n: number) => {
    s.received += n;
    s.throughput = s.received / Math.max(0.001, (performance.now() - openedAt) / 1000);
  };
  let reader = new StreamReader(await o.source.open(0, signal), count);
  const head = await reader.peek(Math.min(HEAD_BYTES, o.size));
  const sniffed = sniffMedia(head);
  s.mime = sniffed.mime;
  if (!sniffed.mime || !MediaSource.isTypeSupported(sniffed.mime) || (sniffed.container === 'mp4' && !sniffed.fragmented)) {
    await reader.cancel();
    s.state = 'unsupported';
    report();
    return 'unsupported';
  }
  const ms = new MediaSource();
  video.src = URL.createObjectURL(ms);
  await new Promise((r) => ms.addEventListener('sourceopen', r, { once: true }));
  const sb = ms.addSourceBuffer(sniffed.mime);
  const queue = new AppendQueue(sb);
  watchFirstFrame(video, o.pressedAt, (t) => { s.firstFrameMs = t; report(); });
  s.state = 'buffering';
  report();
  // The index loads beside playback; the first frame does not wait for it.
  const index = loadSeekIndex(sniffed.container, head, o.size, (a, b) => readRange(o.source, a, b, signal));
  void index.then((ix) => Number.isFinite(ms.duration) || !Number.isFinite(ix.duration) ? undefined : queue.call(() => {
    if (ms.readyState === 'open') ms.duration = Math.max(ix.duration, bufferedEnd(sb.buffered));
  }));
  let appended = 0;
  let started = false;
  let gen = 0;

  const append = async (data: Uint8Array) => {
    for (;;) {
      try {
        await queue.append(data);
        appended += data.length;
        return;
      } catch (err) {
        if ((err as DOMException)?.name !== 'QuotaExceededError') throw err;
        await evictBehind(video, sb, queue, 0);
        await nextTimeUpdate(video);
      }
    }
  };

  /** Appends one stream until it ends or a seek replaces it (its generation is no longer current). */
  const feed = async (rd: StreamReader, g: number) => {
    while (g === gen) {
      signal.throwIfAborted();
      // Before playback every read is appended at once (first frame sooner); after, in slices.
      const data = await rd.take(started ? SLICE : 1);
      if (g !== gen) return;
      if (data.length === 0) break;
      for (let at = 0; at < data.length; at += SLICE) await append(data.subarray(at, Math.min(data.length, at + SLICE)));
      const end = bufferedEnd(sb.buffered);
      const first = sb.buffered.length ? sb.buffered.start(0) : 0;
      if (!started && end > first) s.bitrate = appended / (end - first);
      s.ahead = end - video.currentTime;
      s.needed = neededBufferSeconds({ throughput: s.throughput, bitrate: s.bitrate, duration: ms.duration, size: o.size });
      if (!started && (s.ahead >= s.needed || rd.done)) start();
      report();
      while (started && g === gen && bufferedEnd(sb.buffered) - video.currentTime > (o.maxAhead ?? MAX_AHEAD_S) && !signal.aborted) await nextTimeUpdate(video);
      if (started) await evictBehind(video, sb, queue, KEEP_BEHIND_S);
    }
    if (g !== gen) return;
    if (!started) start();
    await queue.call(() => { if (ms.readyState === 'open') ms.endOfStream(); });
    s.state = 'loaded';
    report();
  };
  const start = () => {
    started = true;
    s.state = 'playing';
    void video.play().catch((err) => { s.error = `play() refused: ${(err as Error).message}`; report(); });
  };

  let feeding = feed(reader, gen);
  video.addEventListener('seeking', () => void (async () => {
    const t = video.currentTime;
    if (isBuffered(sb.buffered, t)) return;
    const p = pointFor(await index, t);
    if (!p || signal.aborted) return;
    const g = ++gen;
    s.seeks++;
    await reader.cancel();
    await queue.abort();
    if (sb.buffered.length) await queue.remove(0, Infinity); // the old position's media is not wanted now
    if (g !== gen) return;
    reader = new StreamReader(await o.source.open(p.offset, signal), count);
    feeding = feed(reader, g);
  })().catch((err) => { s.state = 'error'; s.error = (err as Error).message; report(); }), { signal });

  // Resolves when the stream of the latest seek has been appended whole.
  for (let g = -1; g !== gen;) {
    g = gen;
    await feeding;
  }
  return 'played';
}
