// Catalog commands: ls, info, rm.
import { BunsanError } from '../../protocol/errors.ts';
import { formatDuration } from '../duration.ts';
import { formatBytes, table } from '../format.ts';
import type { CommandContext } from '../main.ts';

function oneId(c: CommandContext): string {
  if (c.args.length !== 1) throw new BunsanError('bad_request', 'expected exactly one content id');
  return c.args[0];
}

export async function lsCommand(c: CommandContext): Promise<void> {
  const all = [];
  let cursor: string | undefined;
  do {
    const page = await c.api.list(cursor);
    all.push(...page.contents);
    cursor = page.cursor ?? undefined;
  } while (cursor);
  c.out({ contents: all }, all.length === 0 ? 'no contents' : table([
    ['ID', 'SIZE', 'CHUNKS', 'REPLICAS', 'NAME'],
    ...all.map((x) => [x.id, formatBytes(x.size), String(x.chunkCount), String(x.replicas), x.name]),
  ]));
}

/** Demand over its windows, the copies now against base and ceiling, and why they last changed. */
function demandLines(info: Awaited<ReturnType<CommandContext['api']['info']>>): string[] {
  const out: string[] = [];
  const d = info.demand;
  if (d) {
    const w = d.windows.map((x) => `${x.window}: ${x.viewers} viewers, ${x.opens} opens, ${formatBytes(x.bytes)}`).join('; ');
    const regions = Object.entries(d.regions).map(([r, s]) => `${r} ${Math.round(s * 100)} %`).join(', ');
    out.push(`demand ${formatBytes(d.rate)}/s  (${w})${regions ? `  regions: ${regions}` : ''}`);
  }
  const k = info.copies;
  if (k) {
    out.push(`copies ${k.current} (base ${k.base}, ceiling ${k.ceiling}${k.current > k.base ? `, on the first ${k.span} chunks` : ''}): ${k.reason}`);
    for (const ch of k.changes.slice(-5)) out.push(`  ${new Date(ch.at).toISOString()}  ${ch.from} -> ${ch.to}  ${ch.reason}`);
  }
  return out;
}

export async function infoCommand(c: CommandContext): Promise<void> {
  const info = await c.api.info(oneId(c));
  const head = `${info.name}  ${info.type}  ${formatBytes(info.size)}  ${info.chunkCount} chunks  state ${info.state}  replicas ${info.replicas}`
    + (info.wanderSeconds ? `  wanders every ${formatDuration(info.wanderSeconds)}` : '');
  const m = info.media;
  const media = m && `media ${m.container}${m.mime ? ` (${m.mime})` : ''}  duration ${m.duration === null ? 'unknown' : `${m.duration.toFixed(1)} s`}  ${m.seek.length} seek points  ${m.streamable ? 'streamable' : 'not streamable (MP4 not fragmented)'}`;
  const u = info.upkeep;
  const upkeep = u && (u.passUnderWay || u.due !== null)
    ? `upkeep: ${u.passUnderWay ? 'moving copies now' : `next look in ${Math.max(0, Math.round(((u.due ?? 0) - Date.now()) / 1000))} s`} (${u.reason || 'asked'})${u.stalled ? `, stalled ${u.stalled} times` : ''}`
    : null;
  const manager = info.manager && `manager ${info.manager.name}${info.manager.region ? ` in ${info.manager.region}` : ' (placed without a region hint)'}`;
  c.out(info, [head, ...(manager ? [manager] : []), ...(media ? [media] : []), ...(upkeep ? [upkeep] : []), ...demandLines(info), table([
    ['#', 'OFFSET', 'LENGTH', 'HASH', 'NODES'],
    ...info.chunks.map((ch) => [String(ch.index), String(ch.offset), String(ch.length), ch.hash.slice(0, 16),
      ch.replicas.map((r) => (r.state === 'stored' ? r.node : `${r.node}(${r.state})`)).join(' ')]),
  ])].join('\n'));
}

export async function rmCommand(c: CommandContext): Promise<void> {
  const id = oneId(c);
  const r = await c.api.remove(id);
  c.out({ id, ...r }, r.state === 'deleted' ? `deleted ${id}` : `deleting ${id}: waiting for ${r.pendingNodes.join(', ')} (retried automatically)`);
}
