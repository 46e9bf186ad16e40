// One queue of SourceBuffer operations (shaka-player's media_source_engine idea): a
// SourceBuffer takes one append or remove at a time and reports the end with `updateend`, so
// every operation waits its turn and the caller gets a promise per operation.
type Op = { kind: 'append'; data: Uint8Array } | { kind: 'remove'; start: number; end: number } | { kind: 'abort' }
  | { kind: 'call'; fn: () => void };

interface Queued { op: Op; resolve: () => void; reject: (e: unknown) => void }

export class AppendQueue {
  private readonly queue: Queued[] = [];
  private current: Queued | null = null;

  constructor(private readonly sb: SourceBuffer) {
    sb.addEventListener('updateend', () => this.finish(null));
    sb.addEventListener('error', () => this.finish(new Error('the media could not be decoded')));
  }

  append(data: Uint8Array): Promise<void> {
    return this.push({ kind: 'append', data });
  }

  remove(start: number, end: number): Promise<void> {
    return this.push({ kind: 'remove', start, end });
  }

  /** Resets the parser, so the next append may start at another cluster or fragment (a seek). */
  abort(): Promise<void> {
    return this.push({ kind: 'abort' });
  }

  /** Runs `fn` between operations, when the SourceBuffer is idle (setting the duration needs that). */
  call(fn: () => void): Promise<void> {
    return this.push({ kind: 'call', fn });
  }

  private push(op: Op): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ op, resolve, reject });
      this.next();
    });
  }

  private next(): void {
    while (!this.current && this.queue.length > 0) {
      const q = this.queue.shift()!;
      try {
        if (q.op.kind === 'append') this.sb.appendBuffer(q.op.data as BufferSource);
        else if (q.op.kind === 'remove') this.sb.remove(q.op.start, q.op.end);
        else {
          // Synchronous: abort() and calls fire no updateend (nothing is updating between ops).
          if (q.op.kind === 'abort') this.sb.abort();
          else q.op.fn();
          q.resolve();
          continue;
        }
        this.current = q;
      } catch (err) {
        q.reject(err); // QuotaExceededError and InvalidStateError come here, synchronously
      }
    }
  }

  private finish(err: Error | null): void {
    const q = this.current;
    this.current = null;
    if (q) {
      if (err) q.reject(err);
      else q.resolve();
    }
    this.next();
  }
}
