// WebM (Matroska) seek points from its Cues: the SeekHead near the head says where the Cues
// element is; each CuePoint gives a time (in TimecodeScale units) and a Cluster position
// (relative to the Segment's data). Only the elements on that path are parsed.
import type { ReadRange, SeekIndex, SeekPoint } from './seek-index.ts';

const ID = { segment: 0x18538067, seekHead: 0x114d9b74, seek: 0x4dbb, seekId: 0x53ab, seekPos: 0x53ac, info: 0x1549a966,
  scale: 0x2ad7b1, duration: 0x4489, cluster: 0x1f43b675, cues: 0x1c53bb6b, cuePoint: 0xbb, cueTime: 0xb3, cueTrack: 0xb7, cueCluster: 0xf1 };

interface El { id: number; start: number; data: number; end: number }

/** One element header at `at`: the ID keeps its marker bits, the size drops them. */
function element(b: Uint8Array, at: number): El | null {
  const vint = (p: number, keepMarker: boolean) => {
    const first = b[p];
    if (first === undefined || first === 0) return null;
    const len = Math.clz32(first) - 23;
    if (p + len > b.length) return null;
    let v = keepMarker ? first : first & (0xff >> len);
    for (let i = 1; i < len; i++) v = v * 256 + b[p + i];
    return { v, len, unknown: !keepMarker && v === 2 ** (7 * len) - 1 };
  };
  const id = vint(at, true);
  const size = id && vint(at + id.len, false);
  if (!id || !size) return null;
  const data = at + id.len + size.len;
  return { id: id.v, start: at, data, end: size.unknown ? Infinity : data + size.v };
}

function* children(b: Uint8Array, from: number, to: number): Generator<El> {
  for (let at = from; at < Math.min(to, b.length);) {
    const e = element(b, at);
    if (!e) return;
    yield e;
    if (e.end === Infinity) return;
    at = e.end;
  }
}

const uint = (b: Uint8Array, e: El) => { let v = 0; for (let i = e.data; i < e.end; i++) v = v * 256 + b[i]; return v; };
const float = (b: Uint8Array, e: El) => {
  const v = new DataView(b.buffer, b.byteOffset + e.data, e.end - e.data);
  return e.end - e.data === 4 ? v.getFloat32(0) : v.getFloat64(0);
};

export async function webmSeekIndex(head: Uint8Array, read: ReadRange): Promise<SeekIndex> {
  const segment = [...children(head, 0, head.length)].find((e) => e.id === ID.segment);
  if (!segment) throw new Error('no Segment in the head');
  let scale = 1_000_000;
  let duration = NaN;
  let cuesAt = -1;
  for (const e of children(head, segment.data, segment.end)) {
    if (e.id === ID.cluster) break;
    if (e.id === ID.info) {
      for (const f of children(head, e.data, e.end)) {
        if (f.id === ID.scale) scale = uint(head, f);
        if (f.id === ID.duration) duration = float(head, f);
      }
    }
    if (e.id === ID.seekHead) {
      for (const s of children(head, e.data, e.end)) {
        if (s.id !== ID.seek) continue;
        const fields = [...children(head, s.data, s.end)];
        const id = fields.find((f) => f.id === ID.seekId);
        const pos = fields.find((f) => f.id === ID.seekPos);
        if (id && pos && uint(head, id) === ID.cues) cuesAt = segment.data + uint(head, pos);
      }
    }
  }
  if (Number.isFinite(duration)) duration = (duration * scale) / 1e9;
  if (cuesAt < 0) return { points: [], duration };
  const top = element(await read(cuesAt, cuesAt + 11), 0);
  if (!top || top.id !== ID.cues || top.end === Infinity) throw new Error('the SeekHead does not point at Cues');
  const cues = await read(cuesAt, cuesAt + top.end - 1);
  const points: SeekPoint[] = [];
  for (const cp of children(cues, top.data, top.end)) {
    if (cp.id !== ID.cuePoint) continue;
    let time = -1;
    let cluster = -1;
    for (const f of children(cues, cp.data, cp.end)) {
      if (f.id === ID.cueTime) time = uint(cues, f);
      if (f.id === ID.cueTrack && cluster < 0) {
        const c = [...children(cues, f.data, f.end)].find((g) => g.id === ID.cueCluster);
        if (c) cluster = uint(cues, c);
      }
    }
    if (time >= 0 && cluster >= 0) points.push({ time: (time * scale) / 1e9, offset: segment.data + cluster });
  }
  return { points: points.sort((a, b) => a.time - b.time), duration };
}
