// Progressive playback through MediaSource: read the reassembled stream, append it to a
// SourceBuffer in slices through one queue, and start playing once the buffer covers what the
// measured download speed and the media's bitrate say is needed. Reading pauses while the
// buffer is far ahead and what is well behind the play head is removed, so memory stays
// bounded. The seek index built at upload (manifest.media) gives the duration from the start
// and, on a seek outside the buffer, the byte to restart the stream at.
import type { MediaIndex } from '../../../protocol/media/media-index.ts';
import { AppendQueue } from './append-queue.ts';
import { bufferedBytes, timeSpans, type Span } from './buffered-bytes.ts';
import type { ByteSource } from './byte-source.ts';
import { sniffMedia } from '../../../protocol/media/sniff.ts';
import { pointFor } from './seek-index.ts';
import { neededBufferSeconds } from './start-gate.ts';
import { StreamReader } from './stream-reader.ts';
import { bufferedEnd, evictBehind, isBuffered, nextTimeUpdate, watchFirstFrame } from './video-element.ts';

const HEAD_BYTES = 64 * 1024; // enough for a WebM Tracks or an fMP4 moov, to sniff the codecs
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
  /** why MediaSource cannot take this media, when it cannot */
  unsupported: string | null;
  /** the byte offset each stream started at: 0, then one per seek outside the buffer */
  opens: number[];
  /** bytes in the SourceBuffer now, [start, end) (see buffered-bytes.ts for the precision) */
  bufferedBytes: Span[];
}

export interface MsePlayOptions {
  video: HTMLVideoElement;
  source: ByteSource;
  size: number;
  /** the index built at upload; without it the codecs are sniffed and seeks stay within the buffer */
  media: MediaIndex | null;
  /** when the user pressed play (performance.now()), for the time to first frame */
  pressedAt: number;
  onStats: (s: PlayerStats) => void;
  signal: AbortSignal;
  /** seconds buffered ahead of the play head before reading pauses */
  maxAhead?: number;
}

/** Plays `source` in `video`; resolves 'unsupported' (nothing appended, `unsupported` says why) when MSE cannot take it. */
export async function playWithMse(o: MsePlayOptions): Promise<'played' | 'unsupported'> {
  const { video, signal } = o;
  const s: PlayerStats = {
    state: 'opening', mime: o.media?.mime ?? null, received: 0, throughput: 0, bitrate: 0, needed: Infinity, ahead: 0,
    firstFrameMs: null, seeks: 0, error: null, unsupported: null, opens: [], bufferedBytes: [],
  };
  const report = () => o.onStats({ ...s });
  const refuse = (why: string) => {
    s.state = 'unsupported';
    s.unsupported = why;
    report();
    return 'unsupported' as const;
  };
  if (o.media && !o.media.streamable) return refuse(NOT_FRAGMENTED);
  const seek = o.media?.seek ?? [];
  const openedAt = performance.now();
  const count = (n: number) => {
    s.received += n;
    s.throughput = s.received / Math.max(0.001, (performance.now() - openedAt) / 1000);
  };
  let reader = new StreamReader(await o.source.open(0, signal), count);
  s.opens.push(0);
  if (!s.mime || !MediaSource.isTypeSupported(s.mime)) {
    // No index, or one whose type this browser does not take: what the head declares decides.
    const sniffed = sniffMedia(await reader.peek(Math.min(HEAD_BYTES, o.size)));
    s.mime = sniffed.mime;
    if (sniffed.container === 'mp4' && !sniffed.fragmented) return reader.cancel().then(() => refuse(NOT_FRAGMENTED));
  }
  if (!s.mime || !MediaSource.isTypeSupported(s.mime)) {
    await reader.cancel();
    return refuse(s.mime ? `this browser's MediaSource does not take ${s.mime}` : 'no codec this player knows was found in the media');
  }
  const ms = new MediaSource();
  video.src = URL.createObjectURL(ms);
  await new Promise((r) => ms.addEventListener('sourceopen', r, { once: true }));
  // The whole length at once, so the seek bar spans the media before its end is fetched.
  if (o.media?.duration) ms.duration = o.media.duration;
  const sb = ms.addSourceBuffer(s.mime);
  const queue = new AppendQueue(sb);
  watchFirstFrame(video, o.pressedAt, (t) => { s.firstFrameMs = t; report(); });
  s.state = 'buffering';
  report();
  let appended = 0;
  /** bytes appended since the buffer was last emptied: [the stream's start, how far it got) */
  const fed: Span = [0, 0];
  const measureBuffer = () => { s.bufferedBytes = bufferedBytes(timeSpans(sb.buffered), seek, o.size, fed); };
  let started = false;
  let gen = 0;

  const append = async (data: Uint8Array) => {
    for (;;) {
      try {
        await queue.append(data);
        appended += data.length;
        fed[1] += data.length;
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
      for (let at = 0; at < data.length && g === gen; at += SLICE) await append(data.subarray(at, Math.min(data.length, at + SLICE)));
      if (g !== gen) return;
      const end = bufferedEnd(sb.buffered);
      const first = sb.buffered.length ? sb.buffered.start(0) : 0;
      if (!started && end > first) s.bitrate = appended / (end - first);
      s.ahead = end - video.currentTime;
      s.needed = neededBufferSeconds({ throughput: s.throughput, bitrate: s.bitrate, duration: ms.duration, size: o.size });
      if (!started && (s.ahead >= s.needed || rd.done)) start();
      measureBuffer();
      report();
      while (started && g === gen && bufferedEnd(sb.buffered) - video.currentTime > (o.maxAhead ?? MAX_AHEAD_S) && !signal.aborted) await nextTimeUpdate(video);
      if (started && g === gen) {
        const before = sb.buffered.length ? sb.buffered.start(0) : 0;
        await evictBehind(video, sb, queue, KEEP_BEHIND_S);
        if ((sb.buffered.length ? sb.buffered.start(0) : 0) !== before) { measureBuffer(); report(); }
      }
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
    const p = pointFor(seek, t);
    if (!p || signal.aborted) return;
    const g = ++gen;
    s.seeks++;
    await reader.cancel();
    await queue.abort();
    if (sb.buffered.length) await queue.remove(0, Infinity); // the old position's media is not wanted now
    if (g !== gen) return;
    fed[0] = fed[1] = p[1];
    measureBuffer();
    s.opens.push(p[1]);
    report();
    reader = new StreamReader(await o.source.open(p[1], signal), count);
    feeding = feed(reader, g);
  })().catch((err) => { s.state = 'error'; s.error = (err as Error).message; report(); }), { signal });

  // Resolves when the stream of the latest seek has been appended whole.
  for (let g = -1; g !== gen;) {
    g = gen;
    await feeding;
  }
  return 'played';
}

const NOT_FRAGMENTED = 'this MP4 is not fragmented (its index is one moov for the whole file), so it cannot stream through MediaSource';
