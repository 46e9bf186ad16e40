// The local stack's secrets, generated on first start into the state folder (which git
// ignores): the Ed25519 signing pair, the key-encryption key and the operator credential.
// Deployed, the same values are wrangler secrets.
import { webcrypto } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { toBase64Url } from '../../protocol/bytes.ts';
import { generateSigningKeyPair } from '../../protocol/signing.ts';

export interface StackSecrets { SIGNING_KEY: string; SIGNING_PUBLIC_KEY: string; KEK: string; ADMIN_TOKEN: string }

export async function loadOrCreateSecrets(home: string): Promise<StackSecrets> {
  const file = join(home, 'secrets.json');
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as StackSecrets;
  const pair = await generateSigningKeyPair(webcrypto as unknown as Crypto);
  const secrets: StackSecrets = {
    SIGNING_KEY: pair.privateKey,
    SIGNING_PUBLIC_KEY: pair.publicKey,
    KEK: toBase64Url(webcrypto.getRandomValues(new Uint8Array(32))),
    ADMIN_TOKEN: `adm_${toBase64Url(webcrypto.getRandomValues(new Uint8Array(32)))}`,
  };
  writeFileSync(file, JSON.stringify(secrets, null, 2), { mode: 0o600 });
  return secrets;
}
