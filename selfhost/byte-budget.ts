// A bound on the bytes held in memory at once by whole-chunk reads (each is read and verified
// before it is sent): requests past the bound wait their turn instead of growing the process.
export class ByteBudget {
  private used = 0;
  private readonly waiting: { n: number; go: () => void }[] = [];

  constructor(private readonly limit: number) {}

  async take(n: number): Promise<void> {
    // A single request larger than the bound still runs, alone.
    const want = Math.min(n, this.limit);
    if (this.used + want <= this.limit && this.waiting.length === 0) {
      this.used += want;
      return;
    }
    await new Promise<void>((go) => this.waiting.push({ n: want, go }));
  }

  give(n: number): void {
    this.used -= Math.min(n, this.limit);
    while (this.waiting.length > 0 && this.used + this.waiting[0].n <= this.limit) {
      const next = this.waiting.shift()!;
      this.used += next.n;
      next.go();
    }
  }
}
