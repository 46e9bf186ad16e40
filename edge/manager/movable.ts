// The part of a manager object that lets it move. Every call goes through `route`: while a
// hand-off is under way new calls wait for it; an object that handed over forwards the call to
// its successor (so a request resolved to it just before the registry switch still works);
// otherwise the call runs here, counted, so that a hand-off starts only when none is running.
// The hand-off itself runs inside blockConcurrencyWhile (handoff-send.ts); the receiving side is
// handoff-receive.ts; the portal's side is handoff.ts.
import { DurableObject } from 'cloudflare:workers';
import { BunsanError } from '../../protocol/errors.ts';
import type { PortalEnv } from '../env.ts';
import { toRpc, type RpcResult } from '../http.ts';
import type { ContentManager } from './content-manager.ts';
import { MANAGER_CALL_MS, within } from './deadline.ts';
import { forwardingOf, selfOf, standbyOf, SWITCH_RETRY_MS, type Forwarding, type ManagerSelf } from './forwarding.ts';
import { completeSwitch } from './handoff.ts';
import { beginImport, discardImport, finishImport, receivePage, type ReceiveContext } from './handoff-receive.ts';
import { sendState, type HandOffRequest, type HandOffStep } from './handoff-send.ts';
import { stubByName } from './home.ts';
import type { SnapshotPage } from './snapshot.ts';
import { ManagerStore } from './store.ts';

/** A hand-off waits at most this long for the calls under way to finish. */
const QUIET_MS = 25_000;

export abstract class MovableManager extends DurableObject<PortalEnv> {
  protected readonly store: ManagerStore;
  /** set while a hand-off runs: calls arriving meanwhile wait for it */
  private moving: Promise<void> | null = null;
  private inflight = 0;
  /** the forwarding mark, once the storage holding it is deleted (the object may live on a while) */
  private gone: Forwarding | null = null;

  constructor(ctx: DurableObjectState, env: PortalEnv) {
    super(ctx, env);
    this.store = new ManagerStore(ctx.storage.sql);
  }

  /** Sets the alarm from the state (the new object, once in charge). */
  protected abstract reschedule(): Promise<void>;
  /** The alarm's work while this object is in charge. */
  protected abstract chargeAlarm(): Promise<void>;

  private forwarding(): Forwarding | null {
    return this.gone ?? forwardingOf(this.store);
  }

  private receiver(): ReceiveContext {
    return { store: this.store, sql: this.ctx.storage.sql, storage: this.ctx.storage };
  }

  private async settled(): Promise<void> {
    while (this.moving) await this.moving;
  }

  /** `local` here when this object is in charge, `remote` on its successor when it handed over. */
  protected async route<T>(remote: (m: ContentManager) => Promise<T>, local: () => Promise<T>): Promise<T> {
    await this.settled();
    const f = this.forwarding();
    if (f) return remote(stubByName(this.env, f.to) as unknown as ContentManager);
    await this.takeCharge();
    this.inflight++;
    try {
      return await local();
    } finally {
      this.inflight--;
    }
  }

  /**
   * A complete imported copy takes charge at its first call: calls reach it only through the old
   * object's forwarding or the registry, both of which mean the old one has handed over.
   */
  private async takeCharge(): Promise<void> {
    const s = standbyOf(this.store);
    if (!s) return;
    if (!s.complete) throw new BunsanError('conflict', 'this manager object holds an incomplete copy and is not in charge');
    this.store.setMeta('standby', null);
    await this.reschedule();
  }

  /** Who this object is (name, generation, placement); null for an object with no content. */
  protected self(): ManagerSelf | null {
    return selfOf(this.store);
  }

  handOff(req: HandOffRequest): Promise<RpcResult<HandOffStep>> {
    return toRpc(async () => {
      await this.settled();
      const f = this.forwarding();
      if (f) return { moved: false, from: f.from, to: f.to, region: f.region, reason: f.reason };
      await this.takeCharge();
      const record = this.store.record();
      if (!record) throw new BunsanError('content_not_found', 'no such content');
      if (record.state === 'deleting') throw new BunsanError('conflict', 'the content is being deleted: its manager stays where it is');
      const self = this.self()!;
      if (self.region === req.region) return { moved: false, from: self.name, to: self.name, region: req.region, reason: `the manager is already in ${req.region}` };
      let release!: () => void;
      this.moving = new Promise((r) => (release = r));
      try {
        await this.quiet();
        // An exception thrown out of blockConcurrencyWhile resets the object: a failed copy comes out as a value.
        const out = await this.ctx.blockConcurrencyWhile(() => sendState({
          env: this.env, store: this.store, sql: this.ctx.storage.sql, storage: this.ctx.storage, self, contentId: record.id, now: () => Date.now(),
        }, req).then((ok) => ({ ok }), (err: unknown) => ({ err })));
        if ('err' in out) throw out.err;
        return out.ok;
      } finally {
        this.moving = null;
        release();
      }
    });
  }

  /** Waits until no call runs here (new ones wait on `moving`). */
  private async quiet(): Promise<void> {
    const until = Date.now() + QUIET_MS;
    while (this.inflight > 0) {
      if (Date.now() > until) throw new BunsanError('conflict', `the manager is busy (${this.inflight} calls under way): try the move again`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  importBegin(from: string, token: string): Promise<RpcResult<null>> {
    return toRpc(async () => (beginImport(this.receiver(), from, token), null));
  }

  importPage(token: string, page: SnapshotPage): Promise<RpcResult<null>> {
    return toRpc(async () => (receivePage(this.receiver(), token, page), null));
  }

  importFinish(token: string, self: ManagerSelf, counts: Record<string, number>): Promise<RpcResult<null>> {
    return toRpc(async () => (finishImport(this.receiver(), token, self, counts), null));
  }

  async discardImport(token: string): Promise<boolean> {
    return discardImport(this.receiver(), token);
  }

  /** Told by the hand-off that it is in charge now: its alarm is set from the imported state. */
  activate(): Promise<boolean> {
    return this.route((m) => m.activate(), async () => true);
  }

  async alarm(): Promise<void> {
    await this.settled();
    const f = this.forwarding();
    if (f) return this.forwardingAlarm(f);
    if (standbyOf(this.store)) return; // a copy not (yet) in charge does nothing by itself
    this.inflight++;
    try {
      await this.chargeAlarm();
    } finally {
      this.inflight--;
    }
  }

  /**
   * An object that handed over makes sure the registry names its successor, then, after the
   * forwarding window, deletes what is left of it. It runs no reconcile pass, audit or timer.
   */
  private async forwardingAlarm(f: Forwarding): Promise<void> {
    const now = Date.now();
    if (!f.switched) {
      const done = await completeSwitch(this.env, f.content, { moved: true, ...f }, now).catch((err: Error) => {
        console.warn(`registry switch of ${f.content} to ${f.to} failed again: ${err.message}`);
        return false;
      });
      if (done) {
        f.switched = true;
        this.store.setMeta('forward', f);
        await within(stubByName(this.env, f.to).activate(), MANAGER_CALL_MS, `manager ${f.to} (activate)`).catch(() => null);
      }
    }
    if (f.switched && now >= f.until) {
      this.gone = f;
      await this.ctx.storage.deleteAlarm();
      await this.ctx.storage.deleteAll();
      return;
    }
    await this.ctx.storage.setAlarm(f.switched ? Math.max(now, f.until) : now + SWITCH_RETRY_MS);
  }
}
