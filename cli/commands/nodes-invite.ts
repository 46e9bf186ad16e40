// `bunsan nodes invite`: a one-time join token for a self-hosted node (operator credential).
import { BunsanError } from '../../protocol/errors.ts';
import type { CommandContext } from '../main.ts';

function intFlag(raw: string | boolean | undefined, name: string): number | undefined {
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string' || !/^\d+$/.test(raw) || !Number.isSafeInteger(Number(raw))) throw new BunsanError('bad_request', `--${name} must be a whole number`);
  return Number(raw);
}

export async function nodesInviteCommand(c: CommandContext): Promise<void> {
  // The operator credential (--admin-token, BUNSAN_ADMIN_TOKEN, the local stack's own), else
  // whatever token was given, which the portal refuses unless it is the operator's.
  const r = await (c.admin ?? c.api).inviteNode({
    ...(typeof c.flags.region === 'string' ? { region: c.flags.region } : {}),
    ...(c.flags.grade !== undefined ? { grade: intFlag(c.flags.grade, 'grade') } : {}),
    ...(c.flags.capacity !== undefined ? { capacity: intFlag(c.flags.capacity, 'capacity') } : {}),
    ...(c.flags.ttl !== undefined ? { ttlSeconds: intFlag(c.flags.ttl, 'ttl') } : {}),
  });
  c.out(r, [
    r.token,
    `one node may join with it until ${new Date(r.expiresAt).toISOString()}:`,
    `  npx bunsan node serve --dir DIR --portal ${c.api.portal} --join ${r.token}`,
  ].join('\n'));
}
