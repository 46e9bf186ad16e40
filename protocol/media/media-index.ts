// The time → byte index of a media content, built by the uploader as the plaintext streams
// through it and kept in the manifest, so a player seeks by fetching from the right byte at
// once instead of reading the file's own index (which not every file has) at play time.
import { z } from 'zod';

/** Most seek points kept: at one per 2 s that is over a day of media, and ~1 MiB of JSON. */
export const MAX_SEEK_POINTS = 50_000;

export const SeekPoint = z.tuple([
  z.number().finite().nonnegative(), // seconds from the start of the media
  z.number().int().nonnegative(), // byte offset of a WebM Cluster or an fMP4 moof
]);
export type SeekPoint = z.infer<typeof SeekPoint>;

export const MediaIndex = z.object({
  container: z.enum(['webm', 'mp4']),
  /** the type with codecs that MediaSource needs, e.g. 'video/webm; codecs="vp9,opus"'; null when no codec was recognised */
  mime: z.string().max(255).nullable(),
  /** seconds, when the file says or the last point lets us tell; null otherwise */
  duration: z.number().finite().nonnegative().nullable(),
  /** false for an MP4 whose media is not fragmented: MediaSource cannot take it, a media element can */
  streamable: z.boolean(),
  /** where self-contained pieces of media start, ascending in time and in offset */
  seek: z.array(SeekPoint).max(MAX_SEEK_POINTS),
}).superRefine((m, ctx) => {
  for (let i = 1; i < m.seek.length; i++) {
    if (m.seek[i][0] < m.seek[i - 1][0] || m.seek[i][1] <= m.seek[i - 1][1]) {
      ctx.addIssue({ code: 'custom', message: `seek point ${i} is out of order`, path: ['seek', i] });
      return;
    }
  }
});
export type MediaIndex = z.infer<typeof MediaIndex>;

/** The first seek point at or past the end of a content of `size` bytes, or -1: the index cannot belong to it. */
export const seekPastEnd = (m: MediaIndex, size: number): number => m.seek.findIndex(([, at]) => at >= size);
