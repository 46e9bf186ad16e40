// Real media for the indexer tests, and what ffprobe and the bytes themselves say about it, so
// the index is checked against something other than the indexer: the keyframe times ffprobe
// reports, and the top-level elements a few lines of EBML walking find.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { makeVideo, type MediaFormat } from '../browser/media.ts';

export const SECONDS = 10;
export const KEYFRAME_EVERY = 2; // makeVideo encodes 24 fps with a keyframe every 48 frames

export const video = (format: MediaFormat) => new Uint8Array(readFileSync(makeVideo(format, SECONDS)));

/** Presentation times of the video keyframes, as ffprobe reads them. */
export function keyframeTimes(format: MediaFormat): number[] {
  const out = execFileSync('ffprobe', ['-v', 'error', '-select_streams', 'v', '-show_entries', 'packet=pts_time,flags', '-of', 'csv=p=0', makeVideo(format, SECONDS)], { encoding: 'utf8' });
  return out.trim().split('\n').map((l) => l.split(',')).filter(([, flags]) => flags.startsWith('K')).map(([t]) => Number(t)).sort((a, b) => a - b);
}

/** An EBML variable-length integer at `at`: its length and value (all-ones value bits: unknown size). */
function vint(b: Uint8Array, at: number, keepMarker: boolean): { len: number; value: number; unknown: boolean } {
  const len = Math.clz32(b[at]) - 23;
  let value = keepMarker ? b[at] : b[at] & (0xff >> len);
  for (let i = 1; i < len; i++) value = value * 256 + b[at + i];
  return { len, value, unknown: !keepMarker && value === 2 ** (7 * len) - 1 };
}

export interface TopLevel { id: number; at: number; sizeAt: number; sizeLen: number; unknown: boolean }

/**
 * The Segment's children of a WebM whose Clusters are known-size, or unknown-size and each
 * immediately followed by the next Cluster (as the rewrite below leaves them).
 */
export function segmentChildren(b: Uint8Array): TopLevel[] {
  const ebml = vint(b, 4, false);
  let at = 4 + ebml.len + ebml.value;
  const segId = vint(b, at, true);
  if (segId.value !== 0x18538067) throw new Error('no Segment after the EBML header');
  at += segId.len + vint(b, at + segId.len, false).len;
  const out: TopLevel[] = [];
  while (at < b.length) {
    const id = vint(b, at, true);
    const size = vint(b, at + id.len, false);
    out.push({ id: id.value, at, sizeAt: at + id.len, sizeLen: size.len, unknown: size.unknown });
    at += id.len + size.len + size.value;
  }
  return out;
}

export const CLUSTER = 0x1f43b675;
export const CUES = 0x1c53bb6b;

/**
 * The cached WebM remuxed the way a live muxer writes it (ffmpeg `-live 1` to a pipe: no Cues,
 * unknown-size Segment), then each Cluster's size rewritten to "unknown" in place, as
 * MediaRecorder writes Clusters. Offsets do not move, so the Clusters' places stay known.
 */
export function liveWebm(): { bytes: Uint8Array; clusters: number[] } {
  const file = makeVideo('webm', SECONDS).replace(/\.webm$/, '.live.webm');
  if (!existsSync(file)) {
    const piped = execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-i', makeVideo('webm', SECONDS), '-c', 'copy', '-live', '1', '-f', 'webm', 'pipe:1'], { maxBuffer: 64 << 20 });
    writeFileSync(`${file}.${process.pid}.part`, piped);
    renameSync(`${file}.${process.pid}.part`, file);
  }
  const bytes = new Uint8Array(readFileSync(file));
  const clusters = segmentChildren(bytes).filter((e) => e.id === CLUSTER);
  for (const c of clusters) {
    bytes[c.sizeAt] = 0xff >> (c.sizeLen - 1);
    bytes.fill(0xff, c.sizeAt + 1, c.sizeAt + c.sizeLen);
  }
  return { bytes, clusters: clusters.map((c) => c.at) };
}

/** A small seeded generator, so a failing slicing is the same on every run. */
export function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}
