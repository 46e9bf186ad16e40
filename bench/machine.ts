// What the benchmark ran on, for BENCHMARKS.md and the JSON results.
import { execFileSync } from 'node:child_process';
import os from 'node:os';

export interface Machine {
  cpu: string;
  nproc: number;
  memoryGiB: number;
  os: string;
  node: string;
  aria2: string | null;
  /** the browser of the service-worker row */
  chromium: string | null;
  /** 1-minute load average when the run started: other work on the machine skews the numbers */
  loadAtStart: number;
}

export function aria2Version(): string | null {
  try {
    return execFileSync('aria2c', ['--version'], { encoding: 'utf8' }).split('\n')[0].trim();
  } catch {
    return null;
  }
}

export function chromiumVersion(binary: string): string | null {
  try {
    return execFileSync(binary, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 20_000 }).split('\n')[0].trim() || null;
  } catch {
    return null;
  }
}

/** The host alone (the simulation's write-up has no peers to name). */
export function host(): Omit<Machine, 'aria2' | 'chromium'> {
  return {
    cpu: os.cpus()[0]?.model?.trim() ?? 'unknown',
    nproc: os.availableParallelism(),
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    loadAtStart: Math.round(os.loadavg()[0] * 100) / 100,
  };
}

export function machine(chromium: string): Machine {
  return { ...host(), aria2: aria2Version(), chromium: chromiumVersion(chromium) };
}
