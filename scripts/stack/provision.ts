// First-start provisioning of the local stack: a provider account whose API token the CLI finds
// in credentials.json, and a demo item so there is something to fetch right away.
import { webcrypto } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createApiClient } from '../../protocol/api-client.ts';
import type { CryptoLike } from '../../protocol/crypto-like.ts';
import { uploadDirect } from '../../protocol/upload/direct.ts';
import { repoRoot } from './build.ts';
import type { Stack } from './stack.ts';

export async function ensureCredentials(stack: Stack): Promise<{ portal: string; token: string }> {
  const file = join(stack.home, 'credentials.json');
  if (existsSync(file)) {
    const saved = JSON.parse(readFileSync(file, 'utf8')) as { portal: string; token: string };
    if (saved.portal === stack.portalUrl) return saved;
    // Same state, another port: keep the token, point at the new address.
    const moved = { ...saved, portal: stack.portalUrl };
    writeFileSync(file, JSON.stringify(moved, null, 2), { mode: 0o600 });
    return moved;
  }
  const admin = createApiClient({ portal: stack.portalUrl, token: stack.secrets.ADMIN_TOKEN, fetch: (u, i) => fetch(u, i) });
  const { token } = await admin.createProvider('local');
  const creds = { portal: stack.portalUrl, token };
  writeFileSync(file, JSON.stringify(creds, null, 2), { mode: 0o600 });
  return creds;
}

/** A few MiB of readable text, cut into 256 KiB chunks so it spreads over every node. */
function demoText(nodes: number): Uint8Array {
  const lines: string[] = [];
  for (let i = 1, n = 0; n < 3 * 1024 * 1024; i++) {
    const line = `${String(i).padStart(6, '0')}  bunsan demo: this file was encrypted, split into chunks and spread over ${nodes} nodes; you are reading it put back together.\n`;
    lines.push(line);
    n += line.length;
  }
  return new TextEncoder().encode(lines.join(''));
}

export interface Demo { video: string; text: string }

/**
 * The demo items: a 20 s WebM (VP9/Opus, generated with ffmpeg's test sources and shipped in
 * the repository) that plays in the browser app, and a text file for the CLI. Both are cut
 * into 64-256 KiB chunks so even small items spread over every node.
 */
export async function ensureDemo(stack: Stack, creds: { portal: string; token: string }): Promise<Demo> {
  const api = createApiClient({ portal: creds.portal, token: creds.token, fetch: (u, i) => fetch(u, i) });
  const marker = join(stack.home, 'demo.json');
  if (existsSync(marker)) {
    const saved = JSON.parse(readFileSync(marker, 'utf8')) as Partial<Demo>;
    const present = async (id?: string) => !!id && (await api.manifest(id).then(() => true, () => false));
    if ((await present(saved.video)) && (await present(saved.text))) return saved as Demo;
  }
  const replicas = Math.min(2, stack.nodes.length);
  const upload = async (name: string, type: string, bytes: Uint8Array, chunk: number) => {
    const session = await api.openUpload({ name, type, size: bytes.length, replicas, chunking: { mode: 'regular', size: chunk } });
    await uploadDirect({
      api, session, crypto: webcrypto as unknown as CryptoLike, fetch: (u, i) => fetch(u, i),
      read: async (offset, length) => bytes.subarray(offset, offset + length),
    });
    await api.commit(session.id);
    return session.id;
  };
  const video = await upload('bunsan-demo.webm', 'video/webm', readFileSync(join(repoRoot, 'scripts/stack/demo/bunsan-demo.webm')), 64 * 1024);
  const text = await upload('bunsan-demo.txt', 'text/plain; charset=utf-8', demoText(stack.nodes.length), 256 * 1024);
  const demo = { video, text };
  writeFileSync(marker, JSON.stringify(demo));
  return demo;
}
