// Starts test/selfhost/node-process.ts in a process group of its own and ends the whole group,
// gently (SIGTERM) or dead (SIGKILL), so a "crash" is a process that really stops.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const script = fileURLToPath(new URL('./node-process.ts', import.meta.url));

export interface NodeProcess { url: string; child: ChildProcess; kill(signal?: NodeJS.Signals): Promise<void> }

export function startNodeProcess(env: Record<string, string>): Promise<NodeProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script], {
      detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env },
    });
    const exited = new Promise<void>((done) => child.once('exit', () => done()));
    let out = '';
    let err = '';
    child.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n')[0];
      if (out.includes('\n')) {
        resolve({
          url: (JSON.parse(line) as { url: string }).url, child,
          async kill(signal = 'SIGKILL') {
            try { process.kill(-child.pid!, signal); } catch { /* already gone */ }
            await exited;
          },
        });
      }
    });
    child.once('exit', (code) => reject(new Error(`node process exited (${code}) before it listened: ${err}`)));
  });
}
