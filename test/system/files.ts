import { randomBytes, createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export function randomFile(dir: string, name: string, size: number): { path: string; bytes: Buffer } {
  const bytes = size > 0 ? randomBytes(size) : Buffer.alloc(0);
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return { path, bytes };
}

export const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

export function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...filesUnder(p));
    else if (e.isFile() && statSync(p).size > 0) out.push(p);
  }
  return out;
}

/** `count` windows of `width` bytes taken evenly across a plaintext, to look for at the nodes. */
export function samples(bytes: Buffer, count: number, width = 32): Buffer[] {
  if (bytes.length < width) return [bytes];
  return Array.from({ length: count }, (_, i) => {
    const at = Math.floor(((bytes.length - width) * i) / Math.max(1, count - 1));
    return bytes.subarray(at, at + width);
  });
}

export function findAny(files: string[], needles: Buffer[]): { file: string; at: number } | null {
  for (const f of files) {
    const hay = readFileSync(f);
    for (const n of needles) {
      const at = hay.indexOf(n);
      if (at >= 0) return { file: f, at };
    }
  }
  return null;
}
