// SHA-256 of whole chunks on worker threads. Every whole-chunk read is hashed before it is sent,
// and on the event loop that hashing was the largest single cost of serving a chunk (the
// benchmark's profile); on a worker the loop goes on serving meanwhile. The buffer is moved to
// the worker and back (transferred, not copied). Small bodies are hashed in place: the round
// trip would cost more than the hash.
import { createHash } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

const INLINE_BELOW = 64 * 1024;
const WORKER = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
parentPort.on('message', ({ id, buf, length }) => {
  const hex = createHash('sha256').update(new Uint8Array(buf, 0, length)).digest('hex');
  parentPort.postMessage({ id, hex, buf }, [buf]);
});`;

interface Pending { resolve: (r: { hex: string; body: Buffer }) => void; reject: (e: Error) => void; worker: number }

export class HashPool {
  private readonly workers: Worker[] = [];
  /** hashes under way per worker: a worker keeps the process alive only while it has some */
  private readonly busy: number[] = [];
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private turn = 0;

  constructor(size = Math.max(1, Math.min(4, availableParallelism() - 1))) {
    for (let i = 0; i < size; i++) {
      const w = new Worker(WORKER, { eval: true });
      w.on('message', ({ id, hex, buf }: { id: number; hex: string; buf: ArrayBuffer }) => {
        const p = this.pending.get(id);
        this.pending.delete(id);
        if (p && --this.busy[p.worker] === 0) this.workers[p.worker].unref();
        p?.resolve({ hex, body: Buffer.from(buf) });
      });
      w.on('error', (err) => {
        for (const p of this.pending.values()) p.reject(err);
        this.pending.clear();
      });
      // After the listeners, which would ref it again: idle helpers never keep the process alive.
      w.unref();
      this.workers.push(w);
      this.busy.push(0);
    }
  }

  /**
   * The hex SHA-256 of `body`, and the body again: a body that went to a worker comes back as
   * a new Buffer over the same memory (the one passed in is detached). `body` must own its
   * ArrayBuffer whole (Buffer.allocUnsafeSlow), never a slice of a shared pool.
   */
  hash(body: Buffer): Promise<{ hex: string; body: Buffer }> {
    if (body.length < INLINE_BELOW || body.byteOffset !== 0 || body.buffer.byteLength !== body.length) {
      return Promise.resolve({ hex: createHash('sha256').update(body).digest('hex'), body });
    }
    const id = this.nextId++;
    const worker = this.turn++ % this.workers.length;
    const w = this.workers[worker];
    if (this.busy[worker]++ === 0) w.ref();
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, worker });
      const buf = body.buffer as ArrayBuffer;
      w.postMessage({ id, buf, length: body.length }, [buf]);
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
