// What a self-hosted node keeps about itself in its folder, beside its chunks:
//   identity.json  its own Ed25519 key pair, made on first start (mode 0600; the private key
//                  never leaves the machine: the portal gets the public key only)
//   node.json      what joining gave it (its id, the portal, the management tier's public key)
//                  and how it serves (port, advertised URL, capacity), so that later starts need
//                  only --dir
// Both are written only once the portal has accepted the node, so a refused join leaves nothing.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { BunsanError } from '../protocol/errors.ts';
import { NodeId } from '../protocol/ids.ts';

export const NodeIdentity = z.object({ publicKey: z.string(), privateKey: z.string() });
export type NodeIdentity = z.infer<typeof NodeIdentity>;

export const NodeConfig = z.object({
  id: NodeId,
  portal: z.string().url(),
  url: z.string().url(),
  signingPublicKey: z.string(),
  region: z.string(),
  grade: z.number().int(),
  capacity: z.number().int().positive().nullable(),
  port: z.number().int().min(0).max(65535),
  host: z.string(),
  joinedAt: z.number().int(),
});
export type NodeConfig = z.infer<typeof NodeConfig>;

const identityFile = (dir: string) => join(dir, 'identity.json');
const configFile = (dir: string) => join(dir, 'node.json');

export const hasJoined = (dir: string) => existsSync(configFile(dir));

function readJson<S extends z.ZodType>(file: string, schema: S): z.infer<S> {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new BunsanError('bad_request', `${file} cannot be read: ${(err as Error).message}`);
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw new BunsanError('bad_request', `${file} is damaged: ${parsed.error.issues[0]?.message}`);
  return parsed.data;
}

export function loadNode(dir: string): { identity: NodeIdentity; config: NodeConfig } {
  if (!hasJoined(dir)) throw new BunsanError('bad_request', `${dir} holds no node: start it once with --portal URL --join TOKEN`);
  return { identity: readJson(identityFile(dir), NodeIdentity), config: readJson(configFile(dir), NodeConfig) };
}

/** Written to a temporary name and renamed, so a crash never leaves half a file. */
function writeAtomic(file: string, value: unknown): void {
  writeFileSync(`${file}.tmp`, JSON.stringify(value, null, 2) + '\n', { mode: 0o600 });
  renameSync(`${file}.tmp`, file);
}

export function saveIdentity(dir: string, identity: NodeIdentity): void {
  writeAtomic(identityFile(dir), identity);
}

export function saveConfig(dir: string, config: NodeConfig): void {
  writeAtomic(configFile(dir), config);
}
