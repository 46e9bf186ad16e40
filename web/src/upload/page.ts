// Upload from the browser as a provider: pick a file, it is sealed and split in a Web Worker
// and sent to the nodes with a progress bar; pausing, a reload or a lost connection leave a
// session that resumes (without sending again what arrived) when the same file is picked again.
import { sniffMedia } from '../../../protocol/media/sniff.ts';
import { declaredType } from '../../../protocol/serve/media-type.ts';
import { bytes, el } from '../format.ts';
import type { UploadJob, WorkerMessage } from './messages.ts';
import { fileKey, forget, remember, sessionFor, unfinishedUploads } from './resume-store.ts';

const TOKEN_KEY = 'bunsan-token';

export function renderUpload(root: HTMLElement, signal: AbortSignal): void {
  const token = el('input', { type: 'password', placeholder: 'provider API token', ariaLabel: 'API token', value: sessionStorage.getItem(TOKEN_KEY) ?? '' });
  const file = el('input', { type: 'file', ariaLabel: 'file' });
  const chunk = el('select', { ariaLabel: 'chunk size' }, ...[256, 1024, 4096].map((k) => el('option', { value: String(k * 1024), selected: k === 1024 }, `${k >= 1024 ? k / 1024 + ' MiB' : k + ' KiB'} chunks`)));
  const start = el('button', { type: 'button', className: 'start-upload' }, 'Upload');
  const pause = el('button', { type: 'button', className: 'pause-upload', disabled: true }, 'Pause');
  const bar = el('progress', { max: 1, value: 0 });
  const status = el('p', { className: 'muted upload-status', ariaLive: 'polite' });
  const note = el('p', { className: 'muted' });
  const pending = el('ul', { className: 'items unfinished' });
  root.replaceChildren(el('h1', {}, 'Upload'), el('div', { className: 'filters' }, token, file, chunk, start, pause), bar, status, note, el('h2', {}, 'Unfinished uploads'), pending);
  const listPending = () => pending.replaceChildren(...unfinishedUploads().map((u) => el('li', {}, el('span', { className: 'name' }, u.name), el('span', { className: 'muted' }, `${bytes(u.size)} · pick this file again to resume`))));
  listPending();
  let worker: Worker | null = null;
  signal.addEventListener('abort', () => worker?.terminate(), { once: true });
  token.addEventListener('change', () => sessionStorage.setItem(TOKEN_KEY, token.value), { signal });

  file.addEventListener('change', async () => {
    const f = file.files?.[0];
    note.textContent = '';
    if (!f) return;
    const head = sniffMedia(new Uint8Array(await f.slice(0, 64 * 1024).arrayBuffer()));
    // MediaSource takes only fragmented MP4: say so before the upload, not at playback.
    if (head.container === 'mp4' && !head.fragmented) note.textContent = 'This MP4 is not fragmented: it will play through the browser\'s own <video> (whole-file ranges), not progressively through MediaSource. Fragment it first (ffmpeg -movflags frag_keyframe+empty_moov+default_base_moof) to stream it.';
    if (sessionFor(fileKey(f, location.origin))) status.textContent = 'An earlier upload of this file will resume.';
  }, { signal });

  pause.addEventListener('click', () => {
    worker?.terminate();
    worker = null;
    pause.disabled = true;
    start.disabled = false;
    status.textContent = `Paused at ${Math.round(bar.value * 100)} %. Upload again (even after a reload) to resume.`;
    root.dataset.state = 'paused';
  }, { signal });

  start.addEventListener('click', () => {
    const f = file.files?.[0];
    if (!f || !token.value) {
      status.textContent = 'Pick a file and give your API token.';
      return;
    }
    sessionStorage.setItem(TOKEN_KEY, token.value);
    const key = fileKey(f, location.origin);
    const job: UploadJob = {
      // File.type is the browser's guess from the name: only a label, cleaned up here, which
      // serving never trusts (protocol/serve/serve-policy.ts decides what an answer is).
      file: f, portal: location.origin, token: token.value, type: declaredType(f.type, f.name),
      chunkSize: Number(chunk.value), replicas: 2, resume: sessionFor(key),
    };
    worker = new Worker(new URL('./upload-worker.ts', import.meta.url), { type: 'module' });
    start.disabled = true;
    pause.disabled = false;
    root.dataset.state = 'uploading';
    worker.onmessage = (e: MessageEvent<WorkerMessage>) => {
      const m = e.data;
      if (m.type === 'session') {
        remember({ key, id: m.id, name: f.name, size: f.size, lastModified: f.lastModified });
        root.dataset.resumedFrom = String(m.alreadyStored);
        status.textContent = m.alreadyStored ? `Resuming: ${m.alreadyStored} of ${m.chunks} chunks are already stored.` : `Sending ${m.chunks} chunks…`;
      } else if (m.type === 'progress') {
        bar.value = m.progress.bytesDone / Math.max(1, m.progress.bytesTotal);
        root.dataset.chunksDone = String(m.progress.chunksDone);
        status.textContent = `${m.progress.chunksDone} of ${m.progress.chunksTotal} chunks stored (${bytes(m.progress.bytesDone)} of ${bytes(m.progress.bytesTotal)})`;
      } else if (m.type === 'done') {
        forget(key);
        listPending();
        bar.value = 1;
        root.dataset.state = 'done';
        status.replaceChildren(`Uploaded: ${m.sentChunks} chunks sent, ${m.skippedChunks} already there. `, el('a', { href: `#/play/${m.id}`, className: 'uploaded' }, 'Play it'));
      } else {
        root.dataset.state = 'error';
        status.textContent = `Upload failed: ${m.message}. Upload again to resume.`;
      }
      if (m.type === 'done' || m.type === 'error') {
        worker?.terminate();
        worker = null;
        start.disabled = false;
        pause.disabled = true;
      }
    };
    worker.postMessage(job);
  }, { signal });
}
