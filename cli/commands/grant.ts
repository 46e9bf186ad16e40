// bunsan grant ID [--ttl S] [--label L]: a signed grant that lets whoever holds it fetch one
// private content (`bunsan get ID --grant G`) until it expires or is revoked.
// bunsan revoke ID GRANT_ID: refuse that grant from now on.
import { BunsanError } from '../../protocol/errors.ts';
import type { CommandContext } from '../main.ts';

const DEFAULT_TTL = 24 * 3600;

export async function grantCommand(c: CommandContext): Promise<void> {
  if (c.args.length !== 1) throw new BunsanError('bad_request', 'expected exactly one content id');
  const raw = c.flags.ttl ?? String(DEFAULT_TTL);
  const ttl = Number(raw);
  if (!Number.isInteger(ttl) || ttl < 1) throw new BunsanError('bad_request', '--ttl must be a positive number of seconds');
  const g = await c.api.grant(c.args[0], ttl, c.flags.label as string | undefined);
  c.out({ contentId: c.args[0], ...g }, g.grant);
}

export async function revokeCommand(c: CommandContext): Promise<void> {
  if (c.args.length !== 2) throw new BunsanError('bad_request', 'expected a content id and a grant id');
  const r = await c.api.revokeGrant(c.args[0], c.args[1]);
  c.out({ contentId: c.args[0], ...r }, `revoked grant ${r.id}`);
}
