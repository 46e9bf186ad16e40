// The MIME type with codecs that MediaSource needs, read from the first bytes of the stream:
// the manifest only knows "video/webm" or "video/mp4", and addSourceBuffer refuses a type
// without codecs. Also tells whether an MP4 is fragmented, which MSE requires.
export interface Sniffed {
  container: 'webm' | 'mp4' | 'unknown';
  /** e.g. 'video/webm; codecs="vp9,opus"'; null when no codec was recognised */
  mime: string | null;
  /** MP4 only: a moov with an mvex box, i.e. playable fragment by fragment */
  fragmented: boolean;
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

export function sniffMedia(head: Uint8Array): Sniffed {
  if (head[0] === 0x1a && head[1] === 0x45 && head[2] === 0xdf && head[3] === 0xa3) return sniffWebm(head);
  if (indexOf(head.subarray(4, 8), ascii('ftyp')) === 0) return sniffMp4(head);
  return { container: 'unknown', mime: null, fragmented: false };
}

function sniffWebm(head: Uint8Array): Sniffed {
  // Matroska CodecID strings sit in the Tracks element near the head.
  const video = has(head, 'V_VP9') ? 'vp9' : has(head, 'V_VP8') ? 'vp8' : has(head, 'V_AV1') ? 'av01.0.08M.08' : null;
  const audio = has(head, 'A_OPUS') ? 'opus' : has(head, 'A_VORBIS') ? 'vorbis' : null;
  const codecs = [video, audio].filter(Boolean).join(',');
  return { container: 'webm', mime: codecs ? `${video ? 'video' : 'audio'}/webm; codecs="${codecs}"` : null, fragmented: true };
}

function sniffMp4(head: Uint8Array): Sniffed {
  let video: string | null = null;
  const avcC = indexOf(head, ascii('avcC'));
  // avcC payload: configurationVersion, profile, profile compatibility, level.
  if (avcC >= 0 && avcC + 8 <= head.length) video = `avc1.${hex2(head[avcC + 5])}${hex2(head[avcC + 6])}${hex2(head[avcC + 7])}`;
  else if (has(head, 'hvcC')) video = 'hvc1.1.6.L93.B0';
  const audio = has(head, 'mp4a') ? 'mp4a.40.2' : has(head, 'Opus') ? 'opus' : null;
  const codecs = [video, audio].filter(Boolean).join(',');
  return {
    container: 'mp4',
    mime: codecs ? `${video ? 'video' : 'audio'}/mp4; codecs="${codecs}"` : null,
    fragmented: has(head, 'mvex'),
  };
}
