// Fragmented MP4 seek points from its mfra box at the end (found through the 16-byte mfro
// trailer): each tfra entry is a fragment's start time and its moof's file offset. The track's
// timescale comes from the moov at the head (tkhd track_ID → mdhd timescale).
import type { ReadRange, SeekIndex, SeekPoint } from './seek-index.ts';

interface Box { type: string; start: number; data: number; end: number }

function* boxes(b: Uint8Array, from: number, to: number): Generator<Box> {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  for (let at = from; at + 8 <= Math.min(to, b.length);) {
    let size = v.getUint32(at);
    let data = at + 8;
    if (size === 1) { size = Number(v.getBigUint64(at + 8)); data += 8; }
    if (size === 0) size = to - at;
    if (size < data - at) return;
    yield { type: String.fromCharCode(b[at + 4], b[at + 5], b[at + 6], b[at + 7]), start: at, data, end: at + size };
    at += size;
  }
}

const child = (b: Uint8Array, parent: Box, type: string) => [...boxes(b, parent.data, parent.end)].find((x) => x.type === type);

/** track_ID → timescale, from the moov in the head. */
function timescales(head: Uint8Array): Map<number, number> {
  const v = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const out = new Map<number, number>();
  const moov = [...boxes(head, 0, head.length)].find((x) => x.type === 'moov');
  if (!moov) return out;
  for (const trak of boxes(head, moov.data, moov.end)) {
    if (trak.type !== 'trak') continue;
    const tkhd = child(head, trak, 'tkhd');
    const mdia = child(head, trak, 'mdia');
    const mdhd = mdia && child(head, mdia, 'mdhd');
    if (!tkhd || !mdhd) continue;
    const idAt = tkhd.data + (head[tkhd.data] === 1 ? 20 : 12);
    const scaleAt = mdhd.data + (head[mdhd.data] === 1 ? 20 : 12);
    out.set(v.getUint32(idAt), v.getUint32(scaleAt));
  }
  return out;
}

export async function mp4SeekIndex(head: Uint8Array, size: number, read: ReadRange): Promise<SeekIndex> {
  const scales = timescales(head);
  const tail = await read(size - 16, size - 1);
  const tv = new DataView(tail.buffer, tail.byteOffset, 16);
  if (String.fromCharCode(...tail.subarray(4, 8)) !== 'mfro') return { points: [], duration: NaN };
  const mfraSize = tv.getUint32(12);
  const mfra = await read(size - mfraSize, size - 1);
  const v = new DataView(mfra.buffer, mfra.byteOffset, mfra.byteLength);
  const top = [...boxes(mfra, 0, mfra.length)][0];
  if (!top || top.type !== 'mfra') throw new Error('mfro does not point at an mfra');
  const tfra = [...boxes(mfra, top.data, top.end)].find((x) => x.type === 'tfra');
  if (!tfra) return { points: [], duration: NaN };
  const version = mfra[tfra.data];
  const track = v.getUint32(tfra.data + 4);
  const sizes = v.getUint32(tfra.data + 8);
  const count = v.getUint32(tfra.data + 12);
  // Each entry ends with traf, trun and sample numbers of 1-4 bytes each, as the flags say.
  const tail3 = (((sizes >> 4) & 3) + 1) + (((sizes >> 2) & 3) + 1) + ((sizes & 3) + 1);
  const scale = scales.get(track) ?? 1000;
  const points: SeekPoint[] = [];
  let at = tfra.data + 16;
  for (let i = 0; i < count; i++) {
    const time = version === 1 ? Number(v.getBigUint64(at)) : v.getUint32(at);
    const offset = version === 1 ? Number(v.getBigUint64(at + 8)) : v.getUint32(at + 4);
    at += (version === 1 ? 16 : 8) + tail3;
    points.push({ time: time / scale, offset });
  }
  points.sort((a, b) => a.time - b.time);
  // The file states no duration; past the last fragment's start, assume one more fragment's length.
  const n = points.length;
  const duration = n > 1 ? points[n - 1].time + (points[n - 1].time - points[0].time) / (n - 1) : NaN;
  return { points, duration };
}
