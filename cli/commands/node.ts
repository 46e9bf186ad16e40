// `bunsan node serve` and `bunsan node drain`: this machine as a self-hosted distribution node
// (selfhost/). Neither needs an API token: the node has its own key.
import { BunsanError } from '../../protocol/errors.ts';
import { drainNode } from '../../selfhost/drain.ts';
import { serveNode } from '../../selfhost/serve.ts';
import type { CommandContext } from '../main.ts';

function bytesFlag(raw: string | boolean | undefined, name: string): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (typeof raw !== 'string' || !/^\d+$/.test(raw) || !Number.isSafeInteger(n) || n < 1) throw new BunsanError('bad_request', `--${name} must be a positive whole number`);
  return n;
}

function dirFlag(c: CommandContext): string {
  const dir = c.flags.dir;
  if (typeof dir !== 'string' || dir === '') throw new BunsanError('bad_request', '--dir DIR is required: the folder the node keeps its chunks and key in');
  return dir;
}

export async function nodeCommand(c: CommandContext): Promise<void> {
  const [sub, ...rest] = c.args;
  if (rest.length > 0) throw new BunsanError('bad_request', `unexpected argument "${rest[0]}"`);
  if (sub === 'serve') return serve(c);
  if (sub === 'drain') {
    const r = await drainNode(dirFlag(c));
    c.out(r, `node ${r.id} is ${r.state}: the portal sends it nothing new and moves its copies to other nodes; keep it serving until they are moved`);
    return;
  }
  throw new BunsanError('bad_request', 'expected "node serve" or "node drain"');
}

async function serve(c: CommandContext): Promise<void> {
  const rawPort = c.flags.port;
  if (rawPort !== undefined && (typeof rawPort !== 'string' || !/^\d{1,5}$/.test(rawPort) || Number(rawPort) > 65535)) {
    throw new BunsanError('bad_request', '--port must be 0-65535 (0: any free port)');
  }
  const port = rawPort === undefined ? undefined : Number(rawPort);
  const every = bytesFlag(c.flags['report-every'], 'report-every');
  const node = await serveNode({
    dir: dirFlag(c),
    port,
    host: typeof c.flags.host === 'string' ? c.flags.host : undefined,
    publicUrl: typeof c.flags['public-url'] === 'string' ? c.flags['public-url'] : undefined,
    capacity: bytesFlag(c.flags.capacity, 'capacity'),
    portal: typeof c.flags.portal === 'string' ? c.flags.portal : undefined,
    join: typeof c.flags.join === 'string' ? c.flags.join : undefined,
    reportEveryMs: every === undefined ? undefined : every * 1000,
    log: c.json ? () => {} : (line) => process.stdout.write(line + '\n'),
  });
  if (c.json) c.out({ id: node.id, url: node.url, publicUrl: node.publicUrl, capacity: node.config.capacity, held: node.store.bytesHeld() }, '');
  // Ctrl-C or SIGTERM: finish the transfers under way (a few seconds at most), then exit.
  await new Promise<void>((done) => {
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  });
  if (!c.json) process.stdout.write(`node ${node.id} stopping: finishing the transfers under way\n`);
  await node.stop(5000);
}
