// The harness's handle on the shaper process: the same operations as Shaper, over IPC.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { FaultAt, LinkShape, RunStats, ShaperTarget } from './shaper.ts';

export class ShaperClient {
  private next = 0;
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  urls: string[] = [];

  private constructor(private readonly child: ChildProcess) {
    child.on('message', (m: { id: number; result?: unknown; error?: string }) => {
      const w = this.waiting.get(m.id);
      this.waiting.delete(m.id);
      if (m.error) w?.reject(new Error(`shaper: ${m.error}`));
      else w?.resolve(m.result);
    });
    child.on('exit', (code) => {
      for (const w of this.waiting.values()) w.reject(new Error(`shaper exited (${code})`));
      this.waiting.clear();
    });
  }

  static async start(targets: ShaperTarget[]): Promise<ShaperClient> {
    const child = fork(fileURLToPath(new URL('./shaper-process.ts', import.meta.url)), [], {
      execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const c = new ShaperClient(child);
    c.urls = (await c.call({ cmd: 'start', targets })) as string[];
    return c;
  }

  private call(msg: object): Promise<unknown> {
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.child.send({ id, ...msg });
    });
  }

  shape(links: LinkShape[] | null): Promise<unknown> {
    // Infinity does not survive JSON: an open link goes over as null.
    return this.call({ cmd: 'shape', links: links?.map((l) => ({ ...l, rate: Number.isFinite(l.rate) ? l.rate : null })) ?? null });
  }

  begin(fault?: FaultAt): Promise<unknown> {
    return this.call({ cmd: 'begin', fault });
  }

  stats(): Promise<RunStats> {
    return this.call({ cmd: 'stats' }) as Promise<RunStats>;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    await this.call({ cmd: 'stop' }).catch(() => {});
  }
}
