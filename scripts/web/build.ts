// Builds the PWA into web/dist: the pages with vite, the service worker with esbuild into a
// fixed /sw.js. A build goes to a folder of its own and replaces web/dist in one rename, under a
// lock, so that parallel test runs never see half a build; a running stack serves its own copy
// (`snapshotWeb`), so a rebuild never pulls files from under it.
import { build as esbuild } from 'esbuild';
import { createHash } from 'node:crypto';
import { closeSync, cpSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { headersFile } from '../../edge/portal/security-headers.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
export const webDist = join(root, 'web/dist');
const stamp = join(webDist, '.build-stamp');
const lock = join(root, 'web/.build-lock');
const SOURCES = ['web', 'worker', 'protocol', 'scripts/web', 'edge/portal/security-headers.ts'].map((d) => join(root, d));

function newest(path: string): number {
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let t = st.mtimeMs;
  for (const e of readdirSync(path)) {
    if (e === 'dist' || e === 'node_modules' || e.startsWith('.')) continue;
    t = Math.max(t, newest(join(path, e)));
  }
  return t;
}

export function webIsStale(): boolean {
  if (!existsSync(stamp)) return true;
  const built = statSync(stamp).mtimeMs;
  return SOURCES.some((s) => existsSync(s) && newest(s) > built);
}

export async function buildWeb(): Promise<void> {
  const out = join(root, `web/.dist-${process.pid}`);
  const old = join(root, `web/.dist-old-${process.pid}`);
  const { build } = await import('vite');
  await build({ configFile: join(root, 'web/vite.config.ts'), build: { outDir: out, emptyOutDir: true } });
  const shell = shellFiles(out);
  // The shell's version goes into sw.js: a build that changes any page, asset or icon is a new
  // service worker, which the browser installs (with a fresh offline copy) and the page offers.
  await esbuild({
    entryPoints: [join(root, 'worker/sw.ts')], outfile: join(out, 'sw.js'), bundle: true, format: 'iife',
    platform: 'browser', target: 'es2022', minify: true, sourcemap: 'linked', logLevel: 'error',
    define: { BUNSAN_SHELL_VERSION: JSON.stringify(shellVersion(out, shell)) },
  });
  writeFileSync(join(out, 'shell.json'), JSON.stringify(shell));
  // The platform serves these files without running the portal Worker: the same security
  // headers reach them through the assets layer's _headers file.
  writeFileSync(join(out, '_headers'), headersFile());
  writeFileSync(join(out, '.build-stamp'), new Date().toISOString() + '\n');
  if (existsSync(webDist)) renameSync(webDist, old);
  renameSync(out, webDist);
  rmSync(old, { recursive: true, force: true });
}

/** What the service worker caches for the offline shell: the pages and their assets. */
function shellFiles(dir: string, prefix = '/'): string[] {
  const out: string[] = prefix === '/' ? ['/'] : [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name.startsWith('.') || e.name.endsWith('.map') || ['sw.js', 'shell.json', '_headers'].includes(e.name)) continue;
    if (e.isDirectory()) out.push(...shellFiles(join(dir, e.name), `${prefix}${e.name}/`));
    else out.push(prefix + e.name);
  }
  return out;
}

/** A short hash of every shell file's path and bytes. */
function shellVersion(dir: string, files: string[]): string {
  const h = createHash('sha256');
  for (const f of [...files].sort()) h.update(`${f}\n`).update(f === '/' ? Buffer.alloc(0) : readFileSync(join(dir, f)));
  return h.digest('hex').slice(0, 16);
}

export async function ensureWebBuilt(): Promise<void> {
  if (webIsStale()) await locked(async () => { if (webIsStale()) await buildWeb(); });
}

/** A current build copied to `dest` (replacing what was there): what one stack serves. */
export async function snapshotWeb(dest: string): Promise<string> {
  await locked(async () => {
    if (webIsStale()) await buildWeb();
    rmSync(dest, { recursive: true, force: true });
    cpSync(webDist, dest, { recursive: true, filter: (src) => !src.endsWith('.map') });
  });
  return dest;
}

async function locked(fn: () => Promise<void>): Promise<void> {
  mkdirSync(join(root, 'web'), { recursive: true });
  for (;;) {
    try {
      closeSync(openSync(lock, 'wx'));
      break;
    } catch {
      // Someone else is building; a lock older than two minutes belongs to a process that died.
      if (existsSync(lock) && Date.now() - statSync(lock).mtimeMs > 120_000) rmSync(lock, { force: true });
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  try {
    await fn();
  } finally {
    rmSync(lock, { force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await locked(buildWeb);
  console.log(`built ${webDist}`);
}
