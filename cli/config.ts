// Where the CLI finds its portal and credentials: flags, then BUNSAN_PORTAL / BUNSAN_TOKEN, then
// the local stack's state folder (BUNSAN_HOME, or the nearest .bunsan above the working folder).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { BunsanError } from '../protocol/errors.ts';

export interface Credentials { portal: string; token: string }

export function stateHome(env = process.env, cwd = process.cwd()): string {
  if (env.BUNSAN_HOME) return resolve(env.BUNSAN_HOME);
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    if (existsSync(join(dir, '.bunsan'))) return join(dir, '.bunsan');
    if (dirname(dir) === dir) return resolve(cwd, '.bunsan');
  }
}

export const credentialsFile = (home: string) => join(home, 'credentials.json');

/**
 * The operator credential: a flag, BUNSAN_ADMIN_TOKEN, or — for the local stack's own portal — the
 * one it generated into its state folder.
 */
function adminToken(home: string, portal: string, saved: Partial<Credentials>, flag: string | undefined, env: NodeJS.ProcessEnv): string | undefined {
  if (flag ?? env.BUNSAN_ADMIN_TOKEN) return flag ?? env.BUNSAN_ADMIN_TOKEN;
  const secrets = join(home, 'secrets.json');
  if (portal !== saved.portal || !existsSync(secrets)) return undefined;
  return (JSON.parse(readFileSync(secrets, 'utf8')) as { ADMIN_TOKEN?: string }).ADMIN_TOKEN;
}

export function resolveCredentials(
  flags: { portal?: string; token?: string; adminToken?: string }, env = process.env,
): Credentials & { home: string; adminToken?: string } {
  const home = stateHome(env);
  let saved: Partial<Credentials> = {};
  if (existsSync(credentialsFile(home))) saved = JSON.parse(readFileSync(credentialsFile(home), 'utf8')) as Partial<Credentials>;
  const portal = flags.portal ?? env.BUNSAN_PORTAL ?? saved.portal;
  const token = flags.token ?? env.BUNSAN_TOKEN ?? (flags.portal && flags.portal !== saved.portal ? undefined : saved.token);
  if (!portal) throw new BunsanError('bad_request', `no portal: pass --portal URL, set BUNSAN_PORTAL, or start the local stack (npm start) so ${credentialsFile(home)} exists`);
  return { portal, token: token ?? '', home, adminToken: adminToken(home, portal, saved, flags.adminToken, env) };
}
