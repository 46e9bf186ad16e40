// Bundles the edge Workers for workerd, the way wrangler would, into the state folder.
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

export async function buildWorkers(outDir: string): Promise<{ portal: string; node: string }> {
  const entries = { portal: 'edge/portal/index.ts', node: 'edge/node/index.ts' } as const;
  const out = { portal: join(outDir, 'portal.mjs'), node: join(outDir, 'node.mjs') };
  await Promise.all((Object.keys(entries) as (keyof typeof entries)[]).map((k) => build({
    entryPoints: [join(repoRoot, entries[k])],
    outfile: out[k],
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    conditions: ['workerd', 'worker', 'browser'],
    mainFields: ['module', 'main'],
    external: ['cloudflare:*', 'node:*'],
    sourcemap: 'linked',
    logLevel: 'error',
  })));
  return out;
}
