// Operator command on a content's manager: move it to another region (claim 7). The old
// manager hands its whole state over and forwards meanwhile; uploads and downloads go on.
import { ManagerRegion } from '../../protocol/api.ts';
import { BunsanError } from '../../protocol/errors.ts';
import type { CommandContext } from '../main.ts';

const USAGE = `usage: bunsan manager move ID --region R [--reason TEXT] (R: ${ManagerRegion.options.join(', ')})`;

export async function managerCommand(c: CommandContext): Promise<void> {
  if (c.args[0] !== 'move' || c.args.length !== 2) throw new BunsanError('bad_request', USAGE);
  if (!c.admin) throw new BunsanError('unauthorized', 'manager move needs the operator credential (--admin-token or BUNSAN_ADMIN_TOKEN)');
  const region = ManagerRegion.safeParse(c.flags.region);
  if (!region.success) throw new BunsanError('bad_request', USAGE);
  const reason = typeof c.flags.reason === 'string' ? c.flags.reason : undefined;
  const r = await c.admin.moveManager(c.args[1], region.data, reason);
  c.out(r, `manager of ${c.args[1]} moved: ${r.from} -> ${r.to} (${r.region}; ${r.reason})`);
}
