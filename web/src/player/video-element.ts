// What the player asks of the video element and its SourceBuffer: buffered ranges, the next
// time update, dropping what is far behind the play head, and the first presented frame.
import type { AppendQueue } from './append-queue.ts';

export const bufferedEnd = (b: TimeRanges) => (b.length ? b.end(b.length - 1) : 0);

/** Whether `t` lies inside a buffered range (with a little room before its end). */
export function isBuffered(b: TimeRanges, t: number): boolean {
  for (let i = 0; i < b.length; i++) if (b.start(i) <= t && t < b.end(i) - 0.1) return true;
  return false;
}

/** The next timeupdate, or a second, whichever comes first (a paused video sends none). */
export const nextTimeUpdate = (v: HTMLVideoElement) => new Promise<void>((r) => {
  const done = () => { clearTimeout(t); v.removeEventListener('timeupdate', done); r(); };
  const t = setTimeout(done, 1000);
  v.addEventListener('timeupdate', done);
});

/** Removes media more than `keep` seconds behind the play head, in one go once it is worth it. */
export async function evictBehind(video: HTMLVideoElement, sb: SourceBuffer, queue: AppendQueue, keep: number): Promise<void> {
  if (!sb.buffered.length) return;
  const to = video.currentTime - keep;
  if (to - sb.buffered.start(0) > 5) await queue.remove(0, to);
}

export function watchFirstFrame(video: HTMLVideoElement, pressedAt: number, cb: (ms: number) => void): void {
  // A presented frame is what the user sees; 'playing' is the fallback where frames cannot be watched.
  const v = video as HTMLVideoElement & { requestVideoFrameCallback?: (cb: () => void) => number };
  if (v.requestVideoFrameCallback) v.requestVideoFrameCallback(() => cb(performance.now() - pressedAt));
  else video.addEventListener('playing', () => cb(performance.now() - pressedAt), { once: true });
}
