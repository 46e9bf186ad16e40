// `bunsan nodes invite`, `bunsan node serve` and `bunsan node drain` as a machine's owner runs
// them: a join, a restart from the folder alone, a graceful stop, a drain signed with the
// node's key — and every bad input a clear one-line error that changes nothing.
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../../scripts/stack/build.ts';
import { cli, freePorts, startTestStack, type TestStack } from './local-stack.ts';

const ONE_LINE = /^bunsan: [a-z_]+: [^\n]+\n$/;

interface Background { out: () => string; code: Promise<number | null>; signal(s: NodeJS.Signals): void }

/** `bunsan ARGS` left running in a process group of its own. */
function background(stack: TestStack, args: string[]): Background {
  const child = spawn(process.execPath, [join(repoRoot, 'cli/bin.mjs'), ...args], {
    detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, BUNSAN_HOME: stack.home },
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { out += d.toString(); });
  const code = new Promise<number | null>((done) => child.once('exit', (c) => done(c)));
  return { out: () => out, code, signal: (s) => { try { process.kill(-child.pid!, s); } catch { /* gone */ } } };
}

async function until(what: string, check: () => Promise<boolean> | boolean, bg?: Background): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${bg?.out() ?? ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const healthy = (url: string) => fetch(`${url}/v1/health`).then((r) => r.status === 200, () => false);

describe('bunsan node serve / drain and nodes invite', () => {
  let stack: TestStack;
  let dir: string;
  let plain: Server;
  const running: Background[] = [];

  beforeAll(async () => {
    stack = await startTestStack(1);
    dir = mkdtempSync(join(tmpdir(), 'bunsan-node-cli-'));
    plain = createServer((_req, res) => res.end('<html>hello</html>'));
    await new Promise<void>((r) => plain.listen(0, '127.0.0.1', () => r()));
  });
  afterAll(async () => {
    for (const b of running) b.signal('SIGKILL');
    await Promise.all(running.map((b) => b.code));
    plain?.close();
    await stack?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  const admin = () => ['--admin-token', stack.secrets.ADMIN_TOKEN];
  const invite = async () => {
    const r = await cli(stack, ['nodes', 'invite', '--region', 'home', '--grade', '2', '--ttl', '600', '--json', ...admin()]);
    expect(r.code, r.stderr).toBe(0);
    return r.json<{ token: string }>().token;
  };

  it('invites only with the operator credential', async () => {
    const r = await cli(stack, ['nodes', 'invite'], { env: { BUNSAN_ADMIN_TOKEN: stack.token } });
    expect([r.code, r.stderr]).toEqual([1, 'bunsan: forbidden: operator credential required\n']);
    const text = await cli(stack, ['nodes', 'invite', ...admin()]);
    expect(text.stdout.toString()).toMatch(/^bnj_[\w-]+\none node may join with it until .*\n  npx bunsan node serve --dir DIR --portal http/);
  });

  it('joins, serves, stops gracefully on SIGTERM, restarts from its folder alone, and drains', async () => {
    const token = await invite();
    const port = await freePorts(1);
    const d = join(dir, 'home-node');
    const first = background(stack, ['node', 'serve', '--dir', d, '--port', String(port), '--host', '127.0.0.1',
      '--capacity', '100000000', '--portal', stack.portalUrl, '--join', token]);
    running.push(first);
    await until('the node to serve', () => healthy(`http://127.0.0.1:${port}`), first);
    await until('its first report', () => /the portal has this node as (joining|active)/.test(first.out()), first);
    expect(first.out()).toMatch(/bunsan node sh-[0-9a-f]{8} \(bunsan\/[\d.]+; region home, grade 2\) in /);
    expect(first.out()).toContain(`listening on http://127.0.0.1:${port}`);
    expect(first.out()).toContain('may hold 95.4 MiB');
    first.signal('SIGTERM');
    expect(await first.code).toBe(0);
    expect(first.out()).toContain('stopping: finishing the transfers under way');

    // the same token a second time, for another folder: refused, and that folder never appears
    const again = await cli(stack, ['node', 'serve', '--dir', join(dir, 'second'), '--port', String(await freePorts(1)), '--host', '127.0.0.1', '--portal', stack.portalUrl, '--join', token]);
    expect([again.code, again.stderr]).toEqual([1, 'bunsan: conflict: this join token was already used\n']);
    expect(existsSync(join(dir, 'second'))).toBe(false);

    const second = background(stack, ['node', 'serve', '--dir', d]);
    running.push(second);
    await until('the restarted node to serve', () => healthy(`http://127.0.0.1:${port}`), second);
    const busy = await cli(stack, ['node', 'serve', '--dir', d]);
    expect(busy.code).toBe(1);
    expect(busy.stderr).toMatch(/^bunsan: conflict: .* is in use by another node process \(pid \d+\)\n$/);

    // Drained once the lifecycle has made it active (a drain is the operator's kind of change, and
    // the sweep's own change of a joining node must not cross it).
    const stateOf = async (nid: string) => (await cli(stack, ['nodes', '--json'])).json<{ nodes: { id: string; state: string }[] }>().nodes.find((n) => n.id === nid)?.state;
    const nid = JSON.parse(readFileSync(join(d, 'node.json'), 'utf8')).id as string;
    await cli(stack, ['sweep', '--json']);
    await until('the node to be active', async () => (await stateOf(nid)) === 'active', second);
    const drain = await cli(stack, ['node', 'drain', '--dir', d, '--json']);
    expect(drain.code, drain.stderr).toBe(0);
    const { id, state } = drain.json<{ id: string; state: string }>();
    expect(state).toBe('draining');
    const nodes = (await cli(stack, ['nodes', '--json'])).json<{ nodes: { id: string; state: string }[] }>().nodes;
    // an empty node retires by itself once drained
    expect(['draining', 'retired']).toContain(nodes.find((n) => n.id === id)?.state);
    second.signal('SIGTERM');
    expect(await second.code).toBe(0);
  });

  it('answers every bad input with one line and leaves nothing behind', async () => {
    const token = await invite();
    const file = join(dir, 'a-file');
    writeFileSync(file, 'x');
    const taken = createServer();
    const takenPort = await freePorts(1);
    await new Promise<void>((r) => taken.listen(takenPort, '127.0.0.1', () => r()));
    // a node folder whose node.json was damaged: refused with a reason, and left as it was
    const damaged = join(dir, 'damaged');
    mkdirSync(damaged);
    writeFileSync(join(damaged, 'node.json'), '{"id": "sh-');
    const plainUrl = `http://127.0.0.1:${(plain.address() as { port: number }).port}`;
    const fresh = (name: string) => join(dir, name);
    const serve = async (name: string, extra: string[], port?: number) =>
      cli(stack, ['node', 'serve', '--dir', fresh(name), '--host', '127.0.0.1', '--port', String(port ?? await freePorts(1)), ...extra]);
    const cases: [string, () => Promise<{ code: number; stderr: string }>, RegExp][] = [
      ['wrong token', () => serve('w1', ['--portal', stack.portalUrl, '--join', 'bnj_wrong']), /^bunsan: token_invalid: unknown join token\n$/],
      ['not a portal', () => serve('w2', ['--portal', plainUrl, '--join', token]), /^bunsan: bad_request: http:\/\/127\.0\.0\.1:\d+ is not a bunsan portal\n$/],
      ['portal down', async () => serve('w3', ['--portal', `http://127.0.0.1:${await freePorts(1)}`, '--join', token]), /^bunsan: node_unreachable: portal .* cannot be reached: ECONNREFUSED\n$/],
      ['folder not writable', () => cli(stack, ['node', 'serve', '--dir', join(file, 'node'), '--portal', stack.portalUrl, '--join', token]), /^bunsan: bad_request: .* is not a writable folder \(ENOTDIR\)\n$/],
      ['port in use', () => serve('w4', ['--portal', stack.portalUrl, '--join', token], takenPort), new RegExp(`^bunsan: bad_request: port ${takenPort} on 127\\.0\\.0\\.1 is in use\\n$`)],
      ['no join on first start', () => serve('w5', []), /^bunsan: bad_request: .* holds no node yet: the first start needs --portal URL --join TOKEN\n$/],
      ['no folder', () => cli(stack, ['node', 'serve']), /^bunsan: bad_request: --dir DIR is required/],
      ['bad capacity', () => serve('w6', ['--capacity', 'lots', '--portal', stack.portalUrl, '--join', token]), /^bunsan: bad_request: --capacity must be a positive whole number\n$/],
      ['drain of nothing', () => cli(stack, ['node', 'drain', '--dir', fresh('w7')]), /^bunsan: bad_request: .* holds no node: start it once with --portal URL --join TOKEN\n$/],
      ['damaged node file', () => cli(stack, ['node', 'serve', '--dir', damaged]), /^bunsan: bad_request: .*damaged\/(identity|node)\.json cannot be read: /],
    ];
    for (const [name, run, want] of cases) {
      const r = await run();
      expect(r.code, name).toBe(1);
      expect(r.stderr, name).toMatch(ONE_LINE);
      expect(r.stderr, name).toMatch(want);
    }
    taken.close();
    expect(readdirSync(damaged)).toEqual(['node.json']);
    // none of them made a folder, and the token was never spent
    expect(readdirSync(dir).filter((n) => /^w\d$/.test(n))).toEqual([]);
    const port = await freePorts(1);
    const ok = background(stack, ['node', 'serve', '--dir', fresh('ok'), '--port', String(port), '--host', '127.0.0.1', '--portal', stack.portalUrl, '--join', token]);
    running.push(ok);
    await until('the node to join with the unspent token', () => healthy(`http://127.0.0.1:${port}`), ok);
    ok.signal('SIGTERM');
    expect(await ok.code).toBe(0);
  });
});
