// Codec naming for MediaSource, in one place: the MIME type with codecs that addSourceBuffer
// needs (a manifest's "video/webm" alone is refused). The upload indexer names codecs from the
// tracks it parses; sniffMedia reads them from the first bytes of a stream when no index exists.
export interface Sniffed {
  container: 'webm' | 'mp4' | 'unknown';
  /** e.g. 'video/webm; codecs="vp9,opus"'; null when no codec was recognised */
  mime: string | null;
  /** MP4 only: a moov with an mvex box, i.e. playable fragment by fragment */
  fragmented: boolean;
}

export interface Codecs { video: string | null; audio: string | null }

/** Matroska CodecIDs that WebM MediaSource takes, and the codec string each one means. */
const MATROSKA_CODECS: Record<string, { kind: 'video' | 'audio'; codec: string }> = {
  V_VP9: { kind: 'video', codec: 'vp9' },
  V_VP8: { kind: 'video', codec: 'vp8' },
  V_AV1: { kind: 'video', codec: 'av01.0.08M.08' },
  A_OPUS: { kind: 'audio', codec: 'opus' },
  A_VORBIS: { kind: 'audio', codec: 'vorbis' },
};

/** The first video and the first audio codec among Matroska CodecIDs, in the order given. */
export function matroskaCodecs(codecIds: Iterable<string>): Codecs {
  const out: Codecs = { video: null, audio: null };
  for (const id of codecIds) {
    const c = MATROSKA_CODECS[id];
    if (c) out[c.kind] ??= c.codec;
  }
  return out;
}

export function mimeOf(container: 'webm' | 'mp4', c: Codecs): string | null {
  const codecs = [c.video, c.audio].filter(Boolean).join(',');
  return codecs ? `${c.video ? 'video' : 'audio'}/${container}; codecs="${codecs}"` : null;
}

const ascii = (s: string) => Array.from(s, (c) => c.charCodeAt(0));

function indexOf(hay: Uint8Array, needle: number[], from = 0): number {
  outer: for (let i = from; i <= hay.length - needle.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

const has = (hay: Uint8Array, s: string) => indexOf(hay, ascii(s)) >= 0;
const hex2 = (n: number) => n.toString(16).padStart(2, '0');

/** Codecs named by MP4 sample entries found anywhere in `bytes` (an stsd box, or a file head). */
export function mp4Codecs(bytes: Uint8Array): Codecs {
  let video: string | null = null;
  const avcC = indexOf(bytes, ascii('avcC'));
  // avcC payload: configurationVersion, profile, profile compatibility, level.
  if (avcC >= 0 && avcC + 8 <= bytes.length) video = `avc1.${hex2(bytes[avcC + 5])}${hex2(bytes[avcC + 6])}${hex2(bytes[avcC + 7])}`;
  else if (has(bytes, 'hvcC')) video = 'hvc1.1.6.L93.B0';
  const audio = has(bytes, 'mp4a') ? 'mp4a.40.2' : has(bytes, 'Opus') ? 'opus' : null;
  return { video, audio };
}

export const isWebmHead = (b: Uint8Array) => b[0] === 0x1a && b[1] === 0x45 && b[2] === 0xdf && b[3] === 0xa3;
export const isMp4Head = (b: Uint8Array) => b.length >= 8 && indexOf(b.subarray(4, 8), ascii('ftyp')) === 0;

export function sniffMedia(head: Uint8Array): Sniffed {
  if (isWebmHead(head)) {
    // Matroska CodecID strings sit in the Tracks element near the head.
    const ids = Object.keys(MATROSKA_CODECS).filter((id) => has(head, id));
    return { container: 'webm', mime: mimeOf('webm', matroskaCodecs(ids)), fragmented: true };
  }
  if (isMp4Head(head)) return { container: 'mp4', mime: mimeOf('mp4', mp4Codecs(head)), fragmented: has(head, 'mvex') };
  return { container: 'unknown', mime: null, fragmented: false };
}
