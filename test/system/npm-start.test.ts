// `npm start` as a newcomer runs it: the whole system comes up with a demo item ready, prints
// its URLs, stops cleanly, and comes back with the same state — with a self-hosted node beside
// the Worker nodes (BUNSAN_SELF_HOSTED=1), joined by invitation on the first start only.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../../scripts/stack/build.ts';
import { cli, freePorts } from './local-stack.ts';

const home = mkdtempSync(join(tmpdir(), 'bunsan-start-'));

function start(port: number): Promise<{ child: ChildProcess; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('npm', ['start'], {
      cwd: repoRoot, detached: true, stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, BUNSAN_HOME: home, BUNSAN_PORT: String(port), BUNSAN_NODES: '2', BUNSAN_SELF_HOSTED: '1' },
    });
    let output = '';
    const timer = setTimeout(() => reject(new Error(`npm start did not come up:\n${output}`)), 90_000);
    const onData = (d: Buffer) => {
      output += d.toString();
      if (output.includes('Ctrl-C stops everything')) {
        clearTimeout(timer);
        resolve({ child, output });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (d: Buffer) => { output += d.toString(); });
    child.on('exit', (code) => reject(new Error(`npm start exited with ${code}:\n${output}`)));
  });
}

/** npm start runs workerd children: end the whole process group, as Ctrl-C would. */
async function stop(child: ChildProcess): Promise<void> {
  const exited = new Promise((r) => child.once('exit', r));
  process.kill(-child.pid!, 'SIGINT');
  await exited;
}

afterAll(() => rmSync(home, { recursive: true, force: true }));

describe('npm start', () => {
  it('starts portal and nodes with a demo ready, and keeps its state across a restart', async () => {
    const port = await freePorts(4);
    const first = await start(port);
    let demo: string;
    let selfHosted: string;
    try {
      expect(first.output).toContain(`portal   http://127.0.0.1:${port}`);
      expect(first.output).toContain(`node n1  http://127.0.0.1:${port + 1}`);
      expect(first.output).toContain(`node n2  http://127.0.0.1:${port + 2}`);
      const sh = new RegExp(`node (sh-[0-9a-f]{8}) http://127\\.0\\.0\\.1:${port + 3}  \\(self-hosted, in .*selfhosted/s1\\)`).exec(first.output);
      expect(sh, first.output).not.toBeNull();
      selfHosted = sh![1];
      demo = /demo\s+([0-9a-f]{32})\s+\(bunsan-demo\.txt/.exec(first.output)![1];
      const video = /demo\s+([0-9a-f]{32})\s+\(bunsan-demo\.webm/.exec(first.output)![1];
      const webm = await cli({ home } as Parameters<typeof cli>[0], ['get', video]);
      expect(webm.stdout.subarray(0, 4).toString('hex')).toBe('1a45dfa3'); // EBML: a real WebM
      const stack = { home } as Parameters<typeof cli>[0];
      const got = await cli(stack, ['get', demo]);
      expect(got.code, got.stderr).toBe(0);
      expect(got.stdout.subarray(0, 14).toString()).toBe('000001  bunsan');
    } finally {
      first.child.stdout!.removeAllListeners();
      first.child.removeAllListeners('exit');
      await stop(first.child);
    }
    // Ctrl-C stops the self-hosted node too (it may take a moment to finish what it was doing)
    for (const deadline = Date.now() + 30_000; await fetch(`http://127.0.0.1:${port + 3}/v1/health`).then(() => true, () => false);) {
      if (Date.now() > deadline) throw new Error('the self-hosted node still answers after npm start was stopped');
      await new Promise((r) => setTimeout(r, 200));
    }
    const second = await start(port);
    try {
      expect(second.output).toContain(`demo     ${demo}`);
      // the same node again, from its folder alone
      expect(second.output).toContain(`node ${selfHosted} http://127.0.0.1:${port + 3}`);
      const ls = await cli({ home } as Parameters<typeof cli>[0], ['ls', '--json']);
      expect(ls.json().contents.map((c: { id: string }) => c.id)).toContain(demo);
      const got = await cli({ home } as Parameters<typeof cli>[0], ['get', demo]);
      expect(got.code, got.stderr).toBe(0);
    } finally {
      second.child.removeAllListeners('exit');
      await stop(second.child);
    }
  });
});
