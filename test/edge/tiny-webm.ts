// A small but well-formed WebM written byte by byte (workerd has no ffmpeg): an unknown-size
// Segment as live muxers write it, Info, one VP9 track, and Clusters that each open with a
// keyframe SimpleBlock followed by a delta one. It says where each Cluster starts.
const concat = (parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
};
const be = (n: number, len: number) => Uint8Array.from({ length: len }, (_, i) => Math.floor(n / 256 ** (len - 1 - i)) % 256);
/** An element with an 8-byte size (0x01 then 7 bytes). */
const el = (id: number[], body: Uint8Array) => concat([Uint8Array.from(id), Uint8Array.of(0x01), be(body.length, 7), body]);
const UNKNOWN_SIZE = Uint8Array.from([0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
const text = (s: string) => new TextEncoder().encode(s);
const f64 = (v: number) => { const b = new Uint8Array(8); new DataView(b.buffer).setFloat64(0, v); return b; };
const filler = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) % 251);

export function tinyWebm(clusters: number, msPerCluster = 1000): { bytes: Uint8Array; clusterAt: number[] } {
  const head = concat([
    el([0x1a, 0x45, 0xdf, 0xa3], el([0x42, 0x82], text('webm'))),
    concat([Uint8Array.from([0x18, 0x53, 0x80, 0x67]), UNKNOWN_SIZE]),
    el([0x15, 0x49, 0xa9, 0x66], concat([el([0x2a, 0xd7, 0xb1], be(1_000_000, 3)), el([0x44, 0x89], f64(clusters * msPerCluster))])),
    el([0x16, 0x54, 0xae, 0x6b], el([0xae], concat([el([0xd7], be(1, 1)), el([0x83], be(1, 1)), el([0x86], text('V_VP9'))]))),
  ]);
  const parts = [head];
  const clusterAt: number[] = [];
  let at = head.length;
  for (let i = 0; i < clusters; i++) {
    const cluster = el([0x1f, 0x43, 0xb6, 0x75], concat([
      el([0xe7], be(i * msPerCluster, 4)),
      el([0xa3], concat([Uint8Array.of(0x81, 0x00, 0x00, 0x80), filler(20_000, i)])), // track 1, +0 ms, keyframe
      el([0xa3], concat([Uint8Array.of(0x81, 0x01, 0xf4, 0x00), filler(9_000, i + 1)])), // track 1, +500 ms, delta
    ]));
    clusterAt.push(at);
    parts.push(cluster);
    at += cluster.length;
  }
  return { bytes: concat(parts), clusterAt };
}
