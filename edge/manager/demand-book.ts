// A content's demand as its manager keeps it (claim 4): manifest opens and distinct viewers per
// minute and per hour, by region, and the bytes its nodes delivered, as the sweep took them from
// the nodes; over sliding windows from a minute to a day. Counted in memory and written to the
// manager's storage at most every few seconds: never a write per request.
import { smooth } from '../demand-policy.ts';
import type { ManagerStore } from './store.ts';

export interface Bucket { t: number; viewers: number; opens: number; bytes: number; regions: Record<string, number> }

export interface DemandBookState {
  minutes: Bucket[];
  hours: Bucket[];
  /** viewer keys already counted in the newest minute (bounded) */
  seen: string[];
  /** bytes/s delivered, smoothed, and per node; when last read */
  rate: number;
  byNode: Record<string, number>;
  rateAt: number;
}

const MINUTE = 60_000;
const HOUR = 3_600_000;
const MAX_SEEN = 5000;
const KEY = 'demand-book';
const PERSIST_EVERY_MS = 5_000;

const empty = (): DemandBookState => ({ minutes: [], hours: [], seen: [], rate: 0, byNode: {}, rateAt: 0 });
const bucket = (t: number): Bucket => ({ t, viewers: 0, opens: 0, bytes: 0, regions: {} });

function add(into: Bucket, b: Pick<Bucket, 'viewers' | 'opens' | 'bytes' | 'regions'>): void {
  into.viewers += b.viewers;
  into.opens += b.opens;
  into.bytes += b.bytes;
  for (const [r, n] of Object.entries(b.regions)) into.regions[r] = (into.regions[r] ?? 0) + n;
}

/** Viewers in the buckets (of `size` ms) that end after `since`, and their regions' shares. */
function viewersIn(list: Bucket[], size: number, since: number): { viewers: number; regions: Record<string, number> } {
  const regions: Record<string, number> = {};
  let viewers = 0;
  for (const b of list) {
    if (b.t + size <= since) continue;
    viewers += b.viewers;
    for (const [r, n] of Object.entries(b.regions)) regions[r] = (regions[r] ?? 0) + n;
  }
  const shares: Record<string, number> = {};
  for (const [r, n] of Object.entries(regions)) if (r !== '' && viewers > 0) shares[r] = n / viewers;
  return { viewers, regions: shares };
}

export class DemandBook {
  private s: DemandBookState;
  private writtenAt = 0;
  private dirty = false;

  /** `tauMs`: the time constant of the smoothed rates (DEMAND_SMOOTH_SECONDS) */
  constructor(private readonly store: ManagerStore, private readonly tauMs: number) {
    this.s = store.meta<DemandBookState>(KEY) ?? empty();
  }

  /** The bucket of `now`'s minute (and hour), older ones rolled out of the windows. */
  private roll(now: number): { minute: Bucket; hour: Bucket } {
    const m = Math.floor(now / MINUTE) * MINUTE;
    const h = Math.floor(now / HOUR) * HOUR;
    const last = this.s.minutes[this.s.minutes.length - 1];
    if (!last || last.t !== m) {
      this.s.minutes.push(bucket(m));
      this.s.seen = [];
    }
    this.s.minutes = this.s.minutes.filter((b) => b.t > m - HOUR);
    const lastH = this.s.hours[this.s.hours.length - 1];
    if (!lastH || lastH.t !== h) this.s.hours.push(bucket(h));
    this.s.hours = this.s.hours.filter((b) => b.t > h - 24 * HOUR);
    return { minute: this.s.minutes[this.s.minutes.length - 1], hour: this.s.hours[this.s.hours.length - 1] };
  }

  /** A manifest handed out: one open, and a viewer the first time this minute that its key is seen. */
  noteOpen(viewer: { key: string; region: string }, now: number): void {
    const { minute, hour } = this.roll(now);
    const fresh = !this.s.seen.includes(viewer.key);
    if (fresh && this.s.seen.length < MAX_SEEN) this.s.seen.push(viewer.key);
    const b = { viewers: fresh ? 1 : 0, opens: 1, bytes: 0, regions: fresh ? { [viewer.region]: 1 } : {} };
    add(minute, b);
    add(hour, b);
    this.dirty = true;
    if (now - this.writtenAt >= PERSIST_EVERY_MS) this.flush(now);
  }

  /** Bytes its nodes delivered over an interval, and the smoothed rates that follow. */
  noteServed(bytes: number, byNode: Record<string, number>, dtMs: number, now: number): void {
    const { minute, hour } = this.roll(now);
    add(minute, { viewers: 0, opens: 0, bytes, regions: {} });
    add(hour, { viewers: 0, opens: 0, bytes, regions: {} });
    const next = (prev: number, b: number) => smooth(prev, dtMs > 0 ? (b * 1000) / dtMs : 0, dtMs, this.tauMs);
    this.s.rate = next(this.s.rate, bytes);
    const nodes: Record<string, number> = {};
    for (const id of new Set([...Object.keys(this.s.byNode), ...Object.keys(byNode)])) {
      const r = next(this.s.byNode[id] ?? 0, byNode[id] ?? 0);
      if (r >= 1) nodes[id] = r; // a node that no longer serves it fades out of the record
    }
    this.s.byNode = nodes;
    this.s.rateAt = now;
    this.dirty = true;
    this.flush(now);
  }

  /**
   * The smoothed rate as of `now`: the sweep reports a content only when its nodes served it, so
   * the time since the last reading counts as time without traffic.
   */
  rate(now: number): number {
    return this.s.rateAt === 0 ? 0 : this.decayed(this.s.rate, now);
  }

  private decayed(v: number, now: number): number {
    return smooth(v, 0, Math.max(0, now - this.s.rateAt), this.tauMs);
  }

  /** Per node, the smoothed bytes/s of this content as of `now` (decayed like the rate). */
  byNode(now: number): Record<string, number> {
    return Object.fromEntries(Object.entries(this.s.byNode).map(([id, r]) => [id, this.decayed(r, now)]));
  }

  /** Distinct viewers (per minute, summed) and their regions' shares over the last `ms`. */
  viewers(now: number, ms: number): { viewers: number; regions: Record<string, number> } {
    return viewersIn(this.s.minutes, MINUTE, now - ms);
  }

  /**
   * The same over a longer window: the minute buckets within the hour, the hour buckets beyond
   * it (up to a day).
   */
  longViewers(now: number, ms: number): { viewers: number; regions: Record<string, number> } {
    return ms <= HOUR ? this.viewers(now, ms) : viewersIn(this.s.hours, HOUR, now - Math.min(ms, 24 * HOUR));
  }

  /** Viewers, opens and bytes over the windows an operator reads. */
  windows(now: number): { window: string; seconds: number; viewers: number; opens: number; bytes: number }[] {
    const sum = (list: Bucket[], size: number, ms: number) => {
      const b = bucket(0);
      for (const x of list) if (x.t + size > now - ms) add(b, x);
      return b;
    };
    return ([['1m', MINUTE, this.s.minutes, MINUTE], ['5m', 5 * MINUTE, this.s.minutes, MINUTE], ['1h', HOUR, this.s.minutes, MINUTE],
      ['24h', 24 * HOUR, this.s.hours, HOUR]] as const).map(([window, ms, list, size]) => {
      const b = sum(list, size, ms);
      return { window, seconds: ms / 1000, viewers: b.viewers, opens: b.opens, bytes: b.bytes };
    });
  }

  flush(now: number): void {
    if (!this.dirty) return;
    this.store.setMeta(KEY, this.s);
    this.writtenAt = now;
    this.dirty = false;
  }
}
