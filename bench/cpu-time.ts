// CPU time spent by the client under test, so a row can say whether its client was held back by
// the CPU rather than the links (decrypting and verifying 32 MB/s is real work on two cores).
// Read from /proc: Linux only; elsewhere the numbers are null.
import { readFileSync, readdirSync } from 'node:fs';

const TICKS = 100; // USER_HZ, 100 on every Linux the benchmark runs on

/** CPU seconds of this process (the engine of the bunsan and single-node rows). */
export const ownCpuSeconds = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

/** Fields of /proc/PID/stat after the command name (which may hold spaces): [0] state, [1] ppid, [11] utime, [12] stime, [13] cutime, [14] cstime. */
function stat(pid: number | 'self'): { comm: string; f: string[] } | null {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = s.lastIndexOf(')');
    return { comm: s.slice(s.indexOf('(') + 1, close), f: s.slice(close + 2).split(' ') };
  } catch {
    return null;
  }
}

/** CPU seconds of this process's children that have exited (aria2, once it is done). */
export function exitedChildrenCpuSeconds(): number | null {
  const s = stat('self');
  return s ? (Number(s.f[13]) + Number(s.f[14])) / TICKS : null;
}

/** CPU seconds so far of every live descendant of this process whose name matches (Chromium's processes). */
export function descendantsCpuSeconds(name: RegExp): number | null {
  let pids: number[];
  try {
    pids = readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(Number);
  } catch {
    return null;
  }
  const byParent = new Map<number, Array<{ pid: number; comm: string; cpu: number }>>();
  for (const pid of pids) {
    const s = stat(pid);
    if (!s) continue;
    const ppid = Number(s.f[1]);
    const list = byParent.get(ppid) ?? [];
    list.push({ pid, comm: s.comm, cpu: (Number(s.f[11]) + Number(s.f[12])) / TICKS });
    byParent.set(ppid, list);
  }
  let total = 0;
  const queue = [process.pid];
  while (queue.length) {
    for (const c of byParent.get(queue.pop()!) ?? []) {
      if (name.test(c.comm)) total += c.cpu;
      queue.push(c.pid);
    }
  }
  return total;
}
