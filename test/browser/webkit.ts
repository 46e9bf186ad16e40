// Debian's WebKitGTK (the engine of Safari and of every browser on an iPhone) driven over
// WebDriver classic: WebKitWebDriver starts the package's MiniBrowser under Xvfb, and plain
// HTTP from Node speaks to it (no npm dependency). Thin on purpose: a session, a page, scripts.
import { spawn, type ChildProcess } from 'node:child_process';
import { freePorts } from '../../scripts/stack/ports.ts';
import { until } from '../system/lifecycle-helpers.ts';
import { ensureWebKitTools } from './webkit-tools.ts';

export const MINIBROWSER = process.env.BUNSAN_MINIBROWSER ?? '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser';

export interface WebKit {
  /** a new WebDriver session: a fresh MiniBrowser with its own profile */
  session(): Promise<WebKitPage>;
  close(): Promise<void>;
}

export interface WebKitPage {
  goto(url: string): Promise<void>;
  /** runs `body` (a function body; `arguments` holds args) in the page and returns its value */
  run<T>(body: string, ...args: unknown[]): Promise<T>;
  /** the same, awaiting a promise: `body` is an async function body */
  runAsync<T>(body: string, ...args: unknown[]): Promise<T>;
  /** polls `body` in the page until it returns a truthy value, or fails with the last value seen */
  waitFor<T>(what: string, body: string, timeoutMs?: number, ...args: unknown[]): Promise<T>;
  close(): Promise<void>;
}

const DEADLINE_MS = 30_000;

async function wd<T>(base: string, method: string, path: string, body?: unknown, timeoutMs = DEADLINE_MS): Promise<T> {
  const res = await fetch(`${base}${path}`, {
    method, headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(timeoutMs),
  });
  const json = (await res.json()) as { value: T & { error?: string; message?: string } };
  if (!res.ok) throw new Error(`WebDriver ${method} ${path}: ${json.value?.error} ${json.value?.message}`);
  return json.value;
}

export async function launchWebKit(): Promise<WebKit> {
  await ensureWebKitTools();
  const port = await freePorts(1);
  // xvfb-run -a: a free display of its own, so runs side by side never share one.
  const driver: ChildProcess = spawn('xvfb-run', ['-a', 'WebKitWebDriver', `--port=${port}`], { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  let stderr = '';
  driver.stderr!.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-4000); });
  const base = `http://127.0.0.1:${port}`;
  const stop = () => { try { process.kill(-driver.pid!, 'SIGTERM'); } catch { /* already gone */ } };
  // The driver says nothing when it listens: it is ready once its status says so.
  await until('WebKitWebDriver ready', async () => {
    if (driver.exitCode !== null) throw new Error(`WebKitWebDriver exited: ${stderr}`);
    return wd<{ ready: boolean }>(base, 'GET', '/status', undefined, 2000).then((st) => st.ready, () => false);
  }, (ready) => ready, DEADLINE_MS / 1000).catch((err: Error) => {
    stop();
    throw new Error(`WebKitWebDriver did not start: ${err.message}\n${stderr}`);
  });
  const sessions = new Set<WebKitPage>();
  return {
    async session() {
      const s = await wd<{ sessionId: string }>(base, 'POST', '/session', {
        capabilities: { alwaysMatch: { 'webkitgtk:browserOptions': { binary: MINIBROWSER, args: ['--automation', '--autoplay-policy=allow'] } } },
      }, 60_000);
      const at = `/session/${s.sessionId}`;
      const page: WebKitPage = {
        goto: (url) => wd(base, 'POST', `${at}/url`, { url }),
        run: (body, ...args) => wd(base, 'POST', `${at}/execute/sync`, { script: body, args }),
        // WebDriver's async script ends by calling the last argument.
        runAsync: (body, ...args) => wd(base, 'POST', `${at}/execute/async`, {
          script: `const done = arguments[arguments.length - 1]; (async () => { ${body} }).apply(null, Array.from(arguments).slice(0, -1))
            .then((v) => done({ ok: v }), (e) => done({ err: String(e && e.message || e) }));`, args,
        }, 120_000).then((r) => {
          const v = r as { ok?: unknown; err?: string };
          if (v.err !== undefined) throw new Error(v.err);
          return v.ok as never;
        }),
        waitFor: <T>(what: string, body: string, timeoutMs = 60_000, ...args: unknown[]) =>
          until(what, () => page.run<unknown>(body, ...args), Boolean, timeoutMs / 1000) as Promise<T>,
        async close() {
          sessions.delete(page);
          await wd(base, 'DELETE', at).catch(() => {});
        },
      };
      sessions.add(page);
      return page;
    },
    async close() {
      await Promise.all([...sessions].map((p) => p.close()));
      stop();
    },
  };
}
