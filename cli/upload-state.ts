// Resumable uploads: the state folder remembers which upload a file (same path, size, mtime,
// portal and options) belongs to, so running the same upload again continues it.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const file = (home: string) => join(home, 'uploads.json');

function load(home: string): Record<string, { id: string; at: number }> {
  try {
    return existsSync(file(home)) ? JSON.parse(readFileSync(file(home), 'utf8')) : {};
  } catch {
    return {};
  }
}

function save(home: string, all: Record<string, { id: string; at: number }>): void {
  mkdirSync(home, { recursive: true });
  const tmp = `${file(home)}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(all, null, 2));
  renameSync(tmp, file(home));
}

export const uploadKey = (parts: unknown[]) => createHash('sha256').update(JSON.stringify(parts)).digest('hex');

export function rememberedUpload(home: string, key: string): string | null {
  return load(home)[key]?.id ?? null;
}

export function rememberUpload(home: string, key: string, id: string): void {
  save(home, { ...load(home), [key]: { id, at: Date.now() } });
}

export function forgetUpload(home: string, key: string): void {
  const all = load(home);
  delete all[key];
  save(home, all);
}
