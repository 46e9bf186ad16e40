// Self-hosted nodes in the real local stack: two Worker nodes and two self-hosted nodes (each
// `bunsan node serve` in its own process, joined through an invitation). Uploads and downloads
// use both kinds; a download keeps working when a self-hosted node is killed (SIGKILL); copy
// orders move a chunk from a Worker node to a self-hosted node and back; the node restarts from
// its folder alone.
import { webcrypto } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toHex } from '../../protocol/bytes.ts';
import type { CryptoLike } from '../../protocol/crypto-like.ts';
import { importPrivateKey } from '../../protocol/signing.ts';
import { expiresIn, issueToken, type AnyToken } from '../../protocol/tokens.ts';
import { cli, nodeInventory, startTestStack, type TestStack } from './local-stack.ts';
import { randomFile, sha256 } from './files.ts';

const cryptoLike = webcrypto as unknown as CryptoLike;

describe('a stack with self-hosted nodes', () => {
  let stack: TestStack;
  let dir: string;
  let id: string;
  let bytes: Buffer;

  beforeAll(async () => {
    stack = await startTestStack(2, { selfHosted: 2 });
    dir = mkdtempSync(join(tmpdir(), 'bunsan-sh-'));
  });
  afterAll(async () => {
    await stack?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  const selfHostedIds = () => stack.selfHosted.map((n) => n.id);
  const workerIds = () => stack.nodes.filter((n) => n.kind === 'worker').map((n) => n.id);

  async function getExact(out: string, extra: string[] = []): Promise<void> {
    const get = await cli(stack, ['get', id, '-o', join(dir, out), '--json', ...extra]);
    expect(get.code, get.stderr).toBe(0);
    expect(sha256(readFileSync(join(dir, out)))).toBe(sha256(bytes));
  }

  it('joins the self-hosted nodes through invitations, with their own ids', async () => {
    const { nodes } = (await cli(stack, ['nodes', '--json'])).json<{ nodes: { id: string; state: string; url: string }[] }>();
    for (const n of stack.selfHosted) {
      expect(n.id).toMatch(/^sh-[0-9a-f]{8}$/);
      // joined as joining; the lifecycle makes them active once they hold their share
      expect(nodes.find((x) => x.id === n.id)).toMatchObject({ url: n.publicUrl });
      expect(['joining', 'active']).toContain(nodes.find((x) => x.id === n.id)!.state);
      // its key pair stays in its folder, readable by its owner only
      const mode = (await import('node:fs')).statSync(join(n.dataDir, 'identity.json')).mode & 0o777;
      expect(mode).toBe(0o600);
    }
  });

  it('uploads to both kinds of node and downloads byte-exact from each kind alone', async () => {
    const f = randomFile(dir, 'mixed.bin', 3 * 1024 * 1024 + 333);
    bytes = f.bytes;
    // a replica on every node, so that every node holds every chunk whatever the placement
    const up = await cli(stack, ['upload', f.path, '--replicas', '4', '--chunk-size', String(256 * 1024), '--json']);
    expect(up.code, up.stderr).toBe(0);
    id = up.json().id;
    const info = (await cli(stack, ['info', id, '--json'])).json<{ chunks: { replicas: { node: string; state: string }[] }[] }>();
    for (const ch of info.chunks) {
      expect(ch.replicas.filter((r) => r.state === 'stored').map((r) => r.node).sort()).toEqual([...workerIds(), ...selfHostedIds()].sort());
    }
    await getExact('all.out');
    await getExact('self-hosted-only.out', ['--exclude', workerIds().join(',')]);
    await getExact('worker-only.out', ['--exclude', selfHostedIds().join(',')]);
  });

  it('keeps downloads working when a self-hosted node is killed', async () => {
    const victim = stack.selfHosted[0];
    await victim.kill();
    expect(await fetch(`${victim.url}/v1/health`).then(() => 'up', () => 'down')).toBe('down');
    await getExact('after-kill.out');
    // only the other self-hosted node left to serve
    await getExact('survivor.out', ['--exclude', [...workerIds(), victim.id].join(',')]);
  });

  it('restarts from its folder alone, with everything it held', async () => {
    const victim = stack.selfHosted[0];
    await victim.start();
    // A node back from down has its copies checked before manifests name them again: wait for that.
    const servedBy = async () => {
      const info = (await cli(stack, ['info', id, '--json'])).json<{ chunks: { replicas: { node: string; state: string }[] }[] }>();
      return info.chunks.every((ch) => ch.replicas.some((r) => r.node === victim.id && r.state === 'stored'));
    };
    for (const deadline = Date.now() + 120_000; !(await servedBy());) {
      if (Date.now() > deadline) throw new Error(`${victim.id} was not named for every chunk again`);
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(readdirSync(join(victim.dataDir, 'tmp'))).toEqual([]);
    const held = (await nodeInventory(stack, victim.id)).filter((c) => c.content === id);
    expect(held.length).toBeGreaterThan(0);
    await getExact('restarted.out', ['--exclude', [...workerIds(), stack.selfHosted[1].id].join(',')]);
    expect(readFileSync(`${victim.dataDir}.log`, 'utf8')).toContain(`bunsan node ${victim.id}`);
  });

  it('copies a chunk from a Worker node to a self-hosted node and back with copy orders', async () => {
    const m = (await cli(stack, ['info', id, '--json'])).json<{ chunks: { hash: string; sealedLength: number }[] }>();
    const chunk = m.chunks[1];
    const key = await importPrivateKey(cryptoLike, stack.secrets.SIGNING_KEY);
    const sign = (t: AnyToken) => issueToken(cryptoLike, key, t);
    const exp = expiresIn(Date.now(), 120);
    const url = (nid: string) => stack.nodes.find((n) => n.id === nid)!.url;
    const stampOf = async (nid: string) => (await fetch(`${url(nid)}/v1/chunks/${chunk.hash}`, {
      method: 'HEAD', headers: { authorization: `Bearer ${await sign({ t: 'get', c: id, exp })}` },
    })).headers.get('bunsan-stamp')!;
    const stamp = await stampOf(workerIds()[0]);
    const moveTo = async (to: string, from: string) => {
      const del = await fetch(`${url(to)}/v1/chunks/${chunk.hash}`, { method: 'DELETE', headers: { authorization: `Bearer ${await sign({ t: 'mgmt', n: to, exp })}` } });
      expect(del.status).toBe(200);
      const order = await sign({
        t: 'copy', n: to, c: id, v: 1, h: chunk.hash, s: stamp, z: chunk.sealedLength, src: url(from),
        g: await sign({ t: 'get', c: id, h: chunk.hash, exp }), o: toHex(cryptoLike.getRandomValues(new Uint8Array(16))), exp,
      });
      const res = await fetch(`${url(to)}/v1/chunks/${chunk.hash}/copy`, { method: 'POST', headers: { authorization: `Bearer ${order}` } });
      expect([res.status, await res.json()]).toEqual([201, { stored: true, hash: chunk.hash, size: chunk.sealedLength }]);
      expect(await stampOf(to)).toBe(stamp);
    };
    await moveTo(selfHostedIds()[1], workerIds()[0]);
    await moveTo(workerIds()[1], selfHostedIds()[1]);
    await getExact('after-copies.out', ['--exclude', [workerIds()[0], selfHostedIds()[0]].join(',')]);
  });

  it('has each self-hosted node report to the portal, signed', async () => {
    const n = stack.selfHosted[1];
    expect(existsSync(join(n.dataDir, 'node.json'))).toBe(true);
    expect(readFileSync(`${n.dataDir}.log`, 'utf8')).toMatch(/the portal has this node as (joining|active)/);
  });
});
