// The self-hosted node's folder at start and in the background: made and checked writable,
// leftovers of writes a killed process never finished removed, expired copy-order markers
// dropped, what is held counted; and the walk in hash order that pages the inventory.
import { constants } from 'node:fs';
import { mkdir, open, readdir, readFile, rm, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { BunsanError } from '../protocol/errors.ts';
import { HASH_RE } from '../protocol/hash.ts';
import { HEADER_BYTES, type Layout } from './disk-layout.ts';

const HEX2 = /^[0-9a-f]{2}$/;

/** Makes the folder ready; counts the chunks it holds. Throws a clear error when it cannot be written. */
export async function prepareFolder(dir: string, l: Layout): Promise<{ bytes: number; chunks: number }> {
  try {
    for (const d of [dir, l.chunks, l.tmp, l.orders, l.corrupt]) await mkdir(d, { recursive: true, mode: 0o700 });
    // A write that is fsync'ed and removed, so a read-only or full folder fails here, not at the first upload.
    const probe = join(l.tmp, `.writable-${process.pid}`);
    const fh = await open(probe, constants.O_CREAT | constants.O_WRONLY | constants.O_TRUNC, 0o600);
    await fh.write('ok');
    await fh.sync();
    await fh.close();
    await unlink(probe);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new BunsanError('bad_request', `${dir} is not a writable folder (${e.code ?? e.message})`);
  }
  // Anything in tmp/ is a write that never finished: it was never visible, so it simply goes.
  for (const name of await readdir(l.tmp)) await rm(join(l.tmp, name), { recursive: true, force: true });
  await sweepExpiredOrders(l, Date.now());
  let bytes = 0;
  let chunks = 0;
  for (const a of await sortedDirs(l.chunks)) {
    for (const b of await sortedDirs(join(l.chunks, a))) {
      for (const name of await readdir(join(l.chunks, a, b))) {
        if (!HASH_RE.test(name)) continue;
        const s = await stat(join(l.chunks, a, b, name)).catch(() => null);
        if (!s?.isFile()) continue;
        bytes += Math.max(0, s.size - HEADER_BYTES);
        chunks++;
      }
    }
  }
  return { bytes, chunks };
}

async function sortedDirs(dir: string): Promise<string[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  return names.filter((n) => HEX2.test(n)).sort();
}

/** Up to `limit` chunk names after `cursor`, in hash order, reading only the folders that can hold them. */
export async function listChunks(l: Layout, cursor: string | undefined, limit: number): Promise<string[]> {
  const out: string[] = [];
  const after = cursor ?? '';
  for (const a of await sortedDirs(l.chunks)) {
    if (a < after.slice(0, 2)) continue;
    for (const b of await sortedDirs(join(l.chunks, a))) {
      if (a + b < after.slice(0, 4)) continue;
      const names = (await readdir(join(l.chunks, a, b))).filter((n) => HASH_RE.test(n) && n > after).sort();
      for (const n of names) {
        out.push(n);
        if (out.length >= limit) return out;
      }
    }
  }
  return out;
}

/** Deletes the markers of copy orders that have expired (an expired order is refused anyway). */
export async function sweepExpiredOrders(l: Layout, now: number): Promise<number> {
  let removed = 0;
  for (const sub of await readdir(l.orders).catch(() => [] as string[])) {
    for (const name of await readdir(join(l.orders, sub)).catch(() => [] as string[])) {
      const path = join(l.orders, sub, name);
      const exp = Number(await readFile(path, 'utf8').catch(() => '0'));
      if (!(exp > now)) {
        await rm(path, { force: true });
        removed++;
      }
    }
  }
  return removed;
}
