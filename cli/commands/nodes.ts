// Operator commands on the node directory: list (with state, holdings, health and backlog),
// add, drain, undrain, retire; a sweep on demand; who holds a chunk; rebuilding the registry.
import type { NodeStatus } from '../../protocol/api.ts';
import { BunsanError } from '../../protocol/errors.ts';
import { formatBytes, table } from '../format.ts';
import type { CommandContext } from '../main.ts';

const ago = (t: number | null) => (t === null ? 'never' : `${Math.max(0, Math.round((Date.now() - t) / 1000))} s ago`);

function describe(n: NodeStatus): string {
  const b = n.backlog;
  const owed = b.copiesIn + b.copiesOut + b.deletes + b.checks;
  return `${n.id} is ${n.state} (${n.stateReason})${owed ? `; backlog: ${b.copiesIn} copies in, ${b.copiesOut} out, ${b.deletes} deletes, ${b.checks} checks` : ''}`;
}

function oneNode(c: CommandContext, verb: string): string {
  if (c.args.length !== 2) throw new BunsanError('bad_request', `usage: bunsan nodes ${verb} ID`);
  return c.args[1];
}

async function list(c: CommandContext): Promise<void> {
  if (!c.admin) {
    const { nodes } = await c.api.nodes();
    c.out({ nodes }, table([['ID', 'STATE', 'REGION', 'GRADE', 'WEIGHT', 'URL'],
      ...nodes.map((n) => [n.id, n.state, n.region, String(n.grade), String(n.weight), n.url])]));
    return;
  }
  const { nodes } = await c.admin.nodeStatuses();
  c.out({ nodes }, table([['ID', 'STATE', 'REGION', 'CHUNKS', 'HELD', 'CAPACITY', 'LOAD/EGRESS', 'HEALTH', 'LAST SEEN', 'BACKLOG (in/out/del/check)', 'URL'],
    ...nodes.map((n) => [
      n.id, n.mirror ? `${n.state} (mirror)` : n.state, n.region || '-', String(n.chunksHeld), formatBytes(n.bytesHeld), n.capacity === null ? '-' : formatBytes(n.capacity),
      loadOf(n),
      n.health.failures ? `failing (${n.health.failures})` : n.health.lastCheckAt === null ? 'unchecked' : 'ok', ago(n.health.lastSeenAt),
      `${n.backlog.copiesIn}/${n.backlog.copiesOut}/${n.backlog.deletes}/${n.backlog.checks}`, n.url,
    ])]));
}

/** Delivered against what it can deliver, per second: "12 MiB/s of 100 MiB/s (12 %), hot". */
function loadOf(n: NodeStatus): string {
  if (n.egress === undefined || n.load === undefined) return '-';
  const share = n.egress > 0 ? ` (${Math.round((100 * n.load) / n.egress)} %)` : '';
  return `${formatBytes(n.load)}/s of ${formatBytes(n.egress)}/s${share}${n.hot ? ', hot' : ''}`;
}

const int = (raw: string | boolean | undefined, name: string) => {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (typeof raw !== 'string' || !Number.isSafeInteger(n) || n < 0) throw new BunsanError('bad_request', `--${name} must be a whole number`);
  return n;
};

export async function nodesCommand(c: CommandContext): Promise<void> {
  const verb = c.args[0];
  if (verb === undefined) return list(c);
  const admin = c.admin;
  if (!admin) throw new BunsanError('unauthorized', `nodes ${verb} needs the operator credential (--admin-token or BUNSAN_ADMIN_TOKEN)`);
  if (verb === 'add') {
    if (c.args.length !== 2) throw new BunsanError('bad_request', 'usage: bunsan nodes add URL [--id ID] [--region R] [--grade G] [--weight W] [--capacity BYTES] [--egress BYTES_PER_SECOND] [--standby]');
    const weight = c.flags.weight === undefined ? undefined : Number(c.flags.weight);
    if (weight !== undefined && !(weight > 0)) throw new BunsanError('bad_request', '--weight must be a positive number');
    const n = await admin.addNode({
      url: c.args[1], id: c.flags.id as string | undefined, region: c.flags.region as string | undefined,
      grade: int(c.flags.grade, 'grade'), weight, capacity: int(c.flags.capacity, 'capacity'),
      egress: int(c.flags.egress, 'egress'), standby: !!c.flags.standby,
    });
    return c.out(n, `added ${describe(n)}`);
  }
  if (verb === 'drain') {
    const n = await admin.drainNode(oneNode(c, verb));
    return c.out(n, `${describe(n)}\nit retires by itself once every copy it holds is elsewhere`);
  }
  if (verb === 'undrain') {
    const n = await admin.undrainNode(oneNode(c, verb));
    return c.out(n, describe(n));
  }
  if (verb === 'retire') {
    const n = await admin.retireNode(oneNode(c, verb), !!c.flags.force);
    return c.out(n, describe(n));
  }
  throw new BunsanError('bad_request', `unknown nodes command "${verb}" (add, drain, undrain, retire, or none to list)`);
}

export async function sweepCommand(c: CommandContext): Promise<void> {
  if (!c.admin) throw new BunsanError('unauthorized', 'sweep needs the operator credential (--admin-token or BUNSAN_ADMIN_TOKEN)');
  const r = await c.admin.sweep();
  c.out(r, [`checked ${r.checked} nodes; ${r.tasks} tasks under way`, ...r.changes.map((x) => `  ${x.node}: ${x.from} -> ${x.to} (${x.reason})`)].join('\n'));
}

export async function findCommand(c: CommandContext): Promise<void> {
  if (!c.admin) throw new BunsanError('unauthorized', 'find needs the operator credential (--admin-token or BUNSAN_ADMIN_TOKEN)');
  if (c.args.length !== 1) throw new BunsanError('bad_request', 'usage: bunsan find HASH [--ask]');
  const h = await c.admin.holders(c.args[0], !!c.flags.ask);
  const lines = [`registry: ${h.registry.length ? h.registry.map((r) => `${r.node} (content ${r.content})`).join(', ') : 'no placement'}`];
  if (h.nodes) lines.push(`nodes:    ${h.nodes.filter((n) => n.held).map((n) => n.node).join(', ') || 'none holds it'}`,
    ...h.nodes.filter((n) => n.error).map((n) => `  ${n.node}: ${n.error}`));
  c.out(h, lines.join('\n'));
}

export async function registryCommand(c: CommandContext): Promise<void> {
  if (c.args[0] !== 'rebuild' || c.args.length !== 1) throw new BunsanError('bad_request', 'usage: bunsan registry rebuild');
  if (!c.admin) throw new BunsanError('unauthorized', 'registry rebuild needs the operator credential (--admin-token or BUNSAN_ADMIN_TOKEN)');
  const r = await c.admin.rebuildRegistry();
  c.out(r, `reading the inventories of ${r.nodes.join(', ')}; every content seen there is written again by its manager`);
}
