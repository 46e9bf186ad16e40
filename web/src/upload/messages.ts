// Messages between the upload page and its Web Worker.
import type { UploadProgress } from '../../../protocol/upload/direct.ts';

export interface UploadJob {
  file: File;
  portal: string;
  token: string;
  type: string;
  chunkSize: number;
  replicas: number;
  /** the session of an earlier, interrupted upload of this same file */
  resume: string | null;
}

export type WorkerMessage =
  | { type: 'session'; id: string; alreadyStored: number; chunks: number }
  | { type: 'progress'; progress: UploadProgress }
  | { type: 'done'; id: string; sentChunks: number; skippedChunks: number }
  | { type: 'error'; message: string };
