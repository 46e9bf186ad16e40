// bunsan get ID [-o FILE] [--prefer IDS] [--exclude IDS]: chunks from several nodes at once through the shared engine,
// verified and decrypted, written in order with backpressure. Memory is the engine's window,
// not the file. With -o the file appears only complete (written to FILE.part, then renamed).
import { webcrypto } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import type { CryptoLike } from '../../protocol/crypto-like.ts';
import { downloadContent } from '../../protocol/engine/download.ts';
import { cliEngine, nodeList } from '../engine-options.ts';
import { BunsanError } from '../../protocol/errors.ts';
import { importPublicKey } from '../../protocol/signing.ts';
import type { CommandContext } from '../main.ts';
import { progressBar } from '../progress.ts';

const cryptoLike = webcrypto as unknown as CryptoLike;

async function write(out: Writable, bytes: Uint8Array): Promise<void> {
  if (!out.write(bytes)) await once(out, 'drain');
}

export async function getCommand(c: CommandContext): Promise<void> {
  if (c.args.length !== 1) throw new BunsanError('bad_request', 'expected exactly one content id');
  const target = c.flags.output as string | undefined;
  const prefer = nodeList(c.flags.prefer, 'prefer');
  const exclude = nodeList(c.flags.exclude, 'exclude');
  const grant = c.flags.grant as string | undefined; // a viewer's credential for a private content
  const [manifest, keys] = await Promise.all([c.api.manifest(c.args[0], grant), c.api.keys()]);
  const publicKey = await importPublicKey(cryptoLike, keys.signingPublicKey);
  const part = target ? `${target}.part` : null;
  const out: Writable = part ? createWriteStream(part) : process.stdout;
  // Like curl: progress on a terminal stderr, unless the bytes themselves go to that terminal.
  const bar = progressBar(`get ${manifest.name}`, !c.json && !!process.stderr.isTTY && (!!target || !process.stdout.isTTY));
  const started = Date.now();
  const perNode = new Map<string, number>();
  let done = 0;
  const engine = cliEngine({
    manifest, publicKey, crypto: cryptoLike, api: c.api, home: c.home, prefer, exclude,
    refresh: () => c.api.manifest(c.args[0], grant),
    onEvent: (e) => {
      if (e.type === 'chunk-done') perNode.set(e.node, (perNode.get(e.node) ?? 0) + 1);
    },
  });
  try {
    for await (const piece of downloadContent(engine.options)) {
      await write(out, piece);
      done += piece.length;
      bar.update(done, manifest.size);
    }
    if (part) {
      out.end();
      await once(out, 'finish');
      await rename(part, target!);
    }
  } catch (err) {
    if (part) {
      out.destroy();
      await rm(part, { force: true });
    }
    throw err;
  } finally {
    bar.finish();
    await engine.finish();
  }
  const seconds = (Date.now() - started) / 1000;
  const t = engine.summary;
  const summary = {
    id: manifest.id, name: manifest.name, size: manifest.size, seconds, chunksByNode: Object.fromEntries(perNode), output: target ?? null,
    fetchedBytes: t?.fetchedBytes ?? 0, hedges: t?.hedges ?? 0, hedgedBytes: t?.hedgedBytes ?? 0, failures: t?.failures ?? 0, reports: t?.reports ?? 0,
    refreshes: t?.refreshes ?? 0,
  };
  if (target) c.out(summary, `${target}: ${manifest.size} bytes from ${perNode.size} nodes in ${seconds.toFixed(2)} s`);
  else if (c.json) process.stderr.write(JSON.stringify(summary) + '\n');
}
