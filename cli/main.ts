// bunsan CLI: upload, get, ls, info, rm, nodes, grant, revoke, node. Every command prints one JSON object with
// --json, and exits non-zero with a one-line reason on failure.
import { parseArgs } from 'node:util';
import { BunsanError } from '../protocol/errors.ts';
import { createApiClient } from '../protocol/api-client.ts';
import { resolveCredentials } from './config.ts';
import { jsonShown, shown } from './format.ts';
import { getCommand } from './commands/get.ts';
import { infoCommand, lsCommand, rmCommand } from './commands/catalog.ts';
import { findCommand, nodesCommand, registryCommand, sweepCommand } from './commands/nodes.ts';
import { grantCommand, revokeCommand } from './commands/grant.ts';
import { nodeCommand } from './commands/node.ts';
import { managerCommand } from './commands/manager.ts';
import { nodesInviteCommand } from './commands/nodes-invite.ts';
import { uploadCommand } from './commands/upload.ts';

const USAGE = `usage: bunsan <command> [options]

  upload FILE [--replicas N] [--chunk-size BYTES] [--irregular] [--gateway] [--name NAME] [--type MIME]
              [--private] [--publish-at TIME] [--expire-at TIME] [--min-grade G] [--placement rendezvous|random]
              [--wander PERIOD]
              [--region R]  where its manager is made (default: near you, as the platform sees it)
                            TIME: an ISO date or ms since the epoch
                            PERIOD: 90s, 15m, 6h, 7d (60s-365d): chunks keep moving to other nodes, each about once a period
  get ID [-o FILE] [--grant G]  fetch from several nodes at once, verify, decrypt (stdout without -o)
         [--prefer N1,N2] [--exclude N3]  nodes to favour / never ask
  grant ID [--ttl SECONDS] [--label L]  print a grant that lets a viewer fetch a private content
  revoke ID GRANT_ID        revoke a grant
  ls                        list contents
  info ID                   chunks and where each lives; demand and copies (base, current, ceiling)
  rm ID                     delete every replica, then the catalog entry

operator (--admin-token T, BUNSAN_ADMIN_TOKEN, or the local stack's own):
  nodes                     every node: state, chunks and bytes held, load against egress, health, last seen, backlog
  nodes add URL [--id ID] [--region R] [--grade G] [--weight W] [--capacity BYTES] [--egress BYTES_PER_S] [--standby]
  nodes drain ID            move its copies elsewhere; it retires by itself when empty
  nodes undrain ID          take it back
  nodes retire ID [--force] only when no chunk needs its copies (--force: a node gone for good)
  sweep                     check every node's health now and hand out the work that follows
  find HASH [--ask]         which nodes hold a chunk: the registry, and with --ask every node itself
  registry rebuild          write lost registry rows again from the nodes and the managers
  manager move ID --region R [--reason TEXT]
                            hand the content's manager over to a new one near R
                            (wnam enam sam weur eeur apac oc afr me)
  nodes invite [--region R] [--grade G] [--capacity BYTES] [--ttl SECONDS]
                            a one-time join token for a self-hosted node

this machine as a self-hosted node (no credentials: the node has its own key):
  node serve --dir DIR [--port P] [--host H] [--public-url URL] [--capacity BYTES] [--portal URL --join TOKEN]
                            serve as a distribution node (the first start joins with the token)
  node drain --dir DIR      ask the portal to move this node's copies elsewhere

global: --portal URL --token T (default: the local stack in .bunsan/)  --json`;

export interface CommandContext {
  args: string[];
  flags: Record<string, string | boolean | undefined>;
  json: boolean;
  api: ReturnType<typeof createApiClient>;
  /** the same API with the operator credential, when one is known */
  admin: ReturnType<typeof createApiClient> | null;
  home: string;
  out: (obj: unknown, text: string) => void;
}

const COMMANDS: Record<string, (c: CommandContext) => Promise<void>> = {
  upload: uploadCommand, get: getCommand, ls: lsCommand, info: infoCommand, rm: rmCommand,
  nodes: (c) => (c.args[0] === 'invite' ? nodesInviteCommand({ ...c, args: c.args.slice(1) }) : nodesCommand(c)),
  grant: grantCommand, revoke: revokeCommand, sweep: sweepCommand, find: findCommand, registry: registryCommand, manager: managerCommand,
};

export async function main(argv: string[]): Promise<number> {
  let json = argv.includes('--json');
  try {
    const { values, positionals } = parseArgs({
      args: argv, allowPositionals: true, strict: true,
      options: {
        portal: { type: 'string' }, token: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
        replicas: { type: 'string' }, 'chunk-size': { type: 'string' }, irregular: { type: 'boolean' }, gateway: { type: 'boolean' },
        name: { type: 'string' }, type: { type: 'string' }, output: { type: 'string', short: 'o' },
        private: { type: 'boolean' }, 'publish-at': { type: 'string' }, 'expire-at': { type: 'string' },
        'min-grade': { type: 'string' }, placement: { type: 'string' }, wander: { type: 'string' }, grant: { type: 'string' },
        ttl: { type: 'string' }, label: { type: 'string' },
        prefer: { type: 'string' }, exclude: { type: 'string' },
        'admin-token': { type: 'string' }, id: { type: 'string' }, region: { type: 'string' }, grade: { type: 'string' },
        weight: { type: 'string' }, capacity: { type: 'string' }, egress: { type: 'string' }, standby: { type: 'boolean' }, force: { type: 'boolean' }, ask: { type: 'boolean' },
        dir: { type: 'string' }, port: { type: 'string' }, host: { type: 'string' }, 'public-url': { type: 'string' },
        join: { type: 'string' }, 'report-every': { type: 'string' }, reason: { type: 'string' },
      },
    });
    json = !!values.json;
    const [command, ...args] = positionals;
    if (values.help || !command) {
      process.stdout.write(USAGE + '\n');
      return command || values.help ? 0 : 2;
    }
    const out = (obj: unknown, text: string) => process.stdout.write((json ? jsonShown(obj) : shown(text)) + '\n');
    // A self-hosted node has its own key and its portal in its folder: no API credentials.
    if (command === 'node') {
      await nodeCommand({ args, flags: values, json, api: null as never, admin: null, home: '', out });
      return 0;
    }
    const run = COMMANDS[command];
    if (!run) throw new BunsanError('bad_request', `unknown command "${command}" (try --help)`);
    const creds = resolveCredentials({ portal: values.portal, token: values.token, adminToken: values['admin-token'] });
    const api = createApiClient({ portal: creds.portal, token: creds.token, fetch: (u, i) => fetch(u, i) });
    const admin = creds.adminToken ? createApiClient({ portal: creds.portal, token: creds.adminToken, fetch: (u, i) => fetch(u, i) }) : null;
    await run({ args, flags: values, json, api, admin, home: creds.home, out });
    return 0;
  } catch (err) {
    const e = err instanceof BunsanError ? err
      : new BunsanError('bad_request', err instanceof Error ? err.message : String(err));
    if (json) process.stdout.write(jsonShown(e.toEnvelope()) + '\n');
    process.stderr.write(`bunsan: ${e.code}: ${shown(e.message.split('\n')[0])}\n`);
    return 1;
  }
}
