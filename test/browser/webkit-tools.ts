// What the WebKit tests need from Debian: WebKitWebDriver with the MiniBrowser it drives, Xvfb
// for its window, and GStreamer's plugins for WebM (VP9/Opus) and H.264/AAC. Missing ones are
// installed with apt when running as root (as .ci/run does); otherwise the run stops at once
// naming the command, never skipping silently.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export const WEBKIT_PACKAGES = ['webkit2gtk-driver', 'xvfb', 'gstreamer1.0-plugins-good', 'gstreamer1.0-plugins-bad', 'gstreamer1.0-libav'];

const installed = (pkg: string) => {
  try {
    return execFileSync('dpkg-query', ['-W', '-f=${Status}', pkg], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).includes('install ok installed');
  } catch {
    return false;
  }
};

let checked: Promise<void> | undefined;

export function ensureWebKitTools(): Promise<void> {
  checked ??= Promise.resolve().then(() => {
    const missing = WEBKIT_PACKAGES.filter((p) => !installed(p));
    if (missing.length === 0 && existsSync('/usr/bin/WebKitWebDriver') && existsSync('/usr/bin/xvfb-run')) return;
    const command = `apt-get update && apt-get install -y ${WEBKIT_PACKAGES.join(' ')}`;
    if (process.getuid?.() !== 0) throw new Error(`The WebKit tests need Debian's WebKitGTK driver, Xvfb and GStreamer plugins. Run as root:\n  ${command}`);
    execFileSync('sh', ['-c', command], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  });
  return checked;
}
