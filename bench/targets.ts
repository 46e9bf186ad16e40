// The targets, judged from one report, as a Markdown table for BENCHMARKS.md: written
// by the benchmark with its results so that a rerun never leaves stale figures in prose.
import type { BenchReport } from './harness.ts';
import type { Row } from './metrics.ts';

const s = (r: Row) => `${r.seconds.toFixed(2)} s`;
const pct = (x: number) => `${(x * 100).toFixed(1)} %`;

export function targetsTable(r: BenchReport): string {
  const row = (profile: string, client: Row['client']) => r.rows.find((x) => x.profile === profile && x.client === client && !x.reusedFrom);
  const ideal = (profile: string) => r.profiles.find((p) => p.name === profile)?.idealSeconds;
  const lines: Array<[string, string, string]> = [];
  const yes = (b: boolean) => (b ? 'yes' : '**no**');

  const equal = row('equal', 'bunsan');
  if (equal) lines.push(['equal nodes: ≥ 90 % of the sum of the caps', `${pct(equal.fractionOfCaps)} (${s(equal)}; ideal ${ideal('equal')!.toFixed(2)} s)`, yes(equal.ok && equal.fractionOfCaps >= 0.9)]);

  const pairs = r.profiles.map((p) => ({ name: p.name, b: row(p.name, 'bunsan'), a: row(p.name, 'aria2') })).filter((x) => x.b && x.a);
  if (pairs.length) {
    const each = pairs.map(({ name, b, a }) => `${name} ${b!.ok ? s(b!) : 'failed'} vs ${a!.ok ? s(a!) : 'failed'}`).join(', ');
    const met = pairs.every(({ b, a }) => b!.ok && (!a!.ok || b!.seconds <= a!.seconds));
    lines.push(['every profile: finishes no later than aria2', each, yes(met)]);
  }

  const slow = row('slow-node', 'bunsan');
  if (slow) {
    const over = slow.seconds / ideal('slow-node')! - 1;
    lines.push(['one node 10× slower: ≤ 15 % slower than size / sum of caps', `${s(slow)} against ${ideal('slow-node')!.toFixed(2)} s: ${pct(over)} slower`, yes(slow.ok && over <= 0.15)]);
  }

  for (const [name, what] of [['node-dies', 'one node dies mid-download'], ['node-hangs', 'one node hangs silently mid-download (the same bar)']]) {
    const b = row(name, 'bunsan');
    if (!b) continue;
    const result = b.ok
      ? `completed, byte-exact; ${b.errors} failed requests recovered; longest stall ${Math.round(b.stallMs)} ms`
      : `failed: ${b.note}`;
    lines.push([`${what}: no error, no stall > 1 s`, result, yes(b.ok && b.stallMs <= 1000)]);
  }

  if (equal) {
    const share = (equal.hedgedBytes ?? 0) / r.wireBytes;
    lines.push(['hedging ≤ 5 % extra bytes on equal', `${((equal.hedgedBytes ?? 0) / 2 ** 20).toFixed(1)} MiB (${pct(share)})`, yes(share <= 0.05)]);
  }

  return ['| target | result | met |', '|---|---|---|', ...lines.map((l) => `| ${l.join(' | ')} |`)].join('\n');
}
