// Small test videos made with ffmpeg: WebM (VP9/Opus) and fragmented MP4 (H.264/AAC), a
// moving test pattern with light noise (so the bitrate is what we ask for) and a sine tone.
// Cached by their parameters under the OS temp folder: encoding is the slow part of setup.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * webm: VP9/Opus; webm-live: the same as a live stream writes it (no Cues, no duration, sizes
 * left unknown), so only an index built at upload can seek in it; fmp4: fragmented H.264/AAC;
 * mp4: the same, not fragmented (moov at the end)
 */
export type MediaFormat = 'webm' | 'webm-live' | 'fmp4' | 'mp4';

const WEBM = ['-c:v', 'libvpx-vp9', '-deadline', 'realtime', '-cpu-used', '8', '-c:a', 'libopus', '-b:a', '64k', '-f', 'webm'];

const CODEC_ARGS: Record<MediaFormat, string[]> = {
  webm: WEBM,
  'webm-live': [...WEBM, '-live', '1'],
  fmp4: ['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-b:a', '64k',
    '-movflags', 'frag_keyframe+empty_moov+default_base_moof', '-f', 'mp4'],
  mp4: ['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-b:a', '64k', '-f', 'mp4'],
};

export function makeVideo(format: MediaFormat, seconds: number, kbps = 600): string {
  const args = [
    '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=24', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
    '-t', String(seconds), '-vf', 'noise=alls=20:allf=t', '-g', '48',
    '-b:v', `${kbps}k`, '-minrate', `${kbps}k`, '-maxrate', `${kbps}k`, '-bufsize', `${kbps}k`, ...CODEC_ARGS[format],
  ];
  const dir = join(tmpdir(), 'bunsan-media');
  mkdirSync(dir, { recursive: true });
  const key = createHash('sha256').update(args.join(' ')).digest('hex').slice(0, 16);
  const file = join(dir, `${format}-${seconds}s-${key}.${format.startsWith('webm') ? 'webm' : 'mp4'}`);
  if (!existsSync(file)) {
    const tmp = `${file}.${process.pid}.part`;
    execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', ...args, tmp], { stdio: 'inherit' });
    renameSync(tmp, file);
  }
  return file;
}
