// A progress bar on stderr when it is a terminal; nothing at all when piped or with --json.
import { formatBytes, shown } from './format.ts';

export interface Progress { update(done: number, total: number): void; finish(): void }

export function progressBar(raw: string, enabled = !!process.stderr.isTTY): Progress {
  if (!enabled) return { update() {}, finish() {} };
  const label = shown(raw);
  const started = Date.now();
  let last = 0;
  return {
    update(done, total) {
      const now = Date.now();
      if (now - last < 100 && done < total) return;
      last = now;
      const frac = total > 0 ? done / total : 1;
      const width = 30;
      const bar = '#'.repeat(Math.round(frac * width)).padEnd(width, '.');
      const rate = done / Math.max(0.001, (now - started) / 1000);
      process.stderr.write(`\r${label} [${bar}] ${(frac * 100).toFixed(0).padStart(3)}% ${formatBytes(done)}/${formatBytes(total)} ${formatBytes(rate)}/s `);
    },
    finish() {
      process.stderr.write('\n');
    },
  };
}
