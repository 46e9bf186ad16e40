// The deployment described by wrangler.toml builds: the portal at the top level and every
// [env.*] node. Environments are read from the file, so a node added there is tested here too.
// Runs wrangler itself (a dry run writes the bundle and stops before any API call).
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { experimental_readRawConfig, unstable_readConfig } from 'wrangler';
import { UPLOAD_LIMIT_DEFAULTS } from '../../edge/upload-limits.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const config = join(root, 'wrangler.toml');
const bin = join(root, 'node_modules', '.bin');
const envs = Object.keys((experimental_readRawConfig({ config }).rawConfig.env ?? {}) as object);
const dirs: string[] = [];

// The fields checked below (wrangler's own Config type does not resolve from its package types).
interface Resolved {
  name: string; main: string; vars: Record<string, unknown>; migrations: unknown[];
  d1_databases: { binding: string; migrations_dir?: string }[];
  durable_objects: { bindings: { name: string; class_name: string }[] };
  r2_buckets: { binding: string; bucket_name?: string }[];
  ratelimits: { name: string }[];
  assets?: { directory?: string; run_worker_first?: boolean | string[]; not_found_handling?: string };
  triggers: { crons?: string[] };
}
const read = (env: string | undefined) => unstable_readConfig({ config, env }, { hideWarnings: true }) as unknown as Resolved;
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function wrangler(args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('wrangler', args, {
      cwd: root,
      env: {
        ...process.env,
        PATH: `${bin}:${process.env.PATH}`, // the repo's wrangler on Node 22, not a global one
        CLOUDFLARE_CF_FETCH_ENABLED: 'false',
        WRANGLER_SEND_METRICS: 'false',
        WRANGLER_HIDE_BANNER: 'true', // the banner also asks npm for a newer version
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

describe('wrangler.toml', () => {
  it('defines at least one node environment', () => {
    expect(envs.filter((e) => e.startsWith('node-')).length).toBeGreaterThan(0);
  });

  // `--env ""` names the top level explicitly; without it wrangler warns that several exist.
  it.each(['', ...envs])('deploy --dry-run --env "%s" writes a bundle', async (env) => {
    const out = mkdtempSync(join(tmpdir(), 'bunsan-dry-run-'));
    dirs.push(out);
    const { code, output } = await wrangler(['deploy', '--dry-run', '--outdir', out, '--env', env]);
    expect(code, output).toBe(0);
    const bundles = readdirSync(out).filter((f) => f.endsWith('.js'));
    expect(bundles.length, output).toBeGreaterThan(0);
    expect(statSync(join(out, bundles[0])).size).toBeGreaterThan(1000);
  });

  it('gives the portal its registry, managers, gates, sweeper, migrations and the sweep\'s cron', () => {
    const c = read(undefined);
    expect(c.main).toMatch(/edge\/portal\/index\.ts$/);
    expect(c.d1_databases.map((d) => [d.binding, d.migrations_dir])).toEqual([['DB', 'edge/migrations']]);
    expect(c.durable_objects.bindings.map((b) => [b.name, b.class_name])).toEqual([['MANAGER', 'ContentManager'], ['GATE', 'NodeGate'], ['SWEEPER', 'Sweeper']]);
    expect(c.migrations).toEqual([{ tag: 'v1', new_sqlite_classes: ['ContentManager'] }, { tag: 'v2', new_sqlite_classes: ['NodeGate', 'Sweeper'] }]);
    expect(c.triggers.crons).toEqual(['* * * * *']);
  });

  it('sets the upload limits the portal reads, at their documented defaults', () => {
    const vars = read(undefined).vars;
    for (const [name, value] of Object.entries(UPLOAD_LIMIT_DEFAULTS)) expect(Number(vars[name]), name).toBe(value);
  });

  // `migrations` is inheritable in wrangler: a node env that forgets `migrations = []` would try
  // to create ContentManager on deploy. Bindings are not inherited, which is what we want.
  it.each(envs)('node env %s has its own bucket and none of the portal state', (env) => {
    const c = read(env);
    expect(c.main).toMatch(/edge\/node\/index\.ts$/);
    expect(c.name).toBe(`bunsan-${env}`);
    expect(c.migrations).toEqual([]);
    expect(c.triggers.crons ?? []).toEqual([]);
    expect(c.durable_objects.bindings).toEqual([]);
    expect(c.d1_databases).toEqual([]);
    expect(c.r2_buckets.map((b) => b.binding)).toEqual(['BUCKET']);
    expect(Object.keys(c.vars).sort()).toEqual(['CLIENT_ADDRESS_HEADER', 'NODE_ID', 'REGION', 'SIGNING_PUBLIC_KEY']);
    expect(c.vars.CLIENT_ADDRESS_HEADER).toBe('cf-connecting-ip');
    expect(c.ratelimits.map((r) => r.name)).toEqual(['RATE_LIMIT_PROBE']);
  });

  // The PWA is the portal's static assets; nodes inherit [assets] and must send everything to their Worker.
  it('serves the PWA from the portal only, with the API always reaching the Worker', () => {
    expect(read(undefined).assets).toEqual({ directory: './web/dist', run_worker_first: ['/api/*'], not_found_handling: 'single-page-application' });
    for (const env of envs) expect(read(env).assets?.run_worker_first, env).toBe(true);
  });

  it('gives every node a distinct worker, bucket and NODE_ID', () => {
    const nodes = envs.map(read);
    for (const pick of [(c: Resolved) => c.name, (c: Resolved) => c.r2_buckets[0]?.bucket_name, (c: Resolved) => c.vars.NODE_ID]) {
      expect(new Set(nodes.map(pick)).size).toBe(nodes.length);
    }
  });
});
