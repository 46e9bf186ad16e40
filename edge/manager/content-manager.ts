// One Durable Object per content: the source document's management server for that content.
// It opens uploads (secret, stamp, chunk plan), places each chunk on nodes by rendezvous
// hashing (or at random), confirms replicas with the nodes themselves, commits, hands out
// manifests to allowed callers, issues and revokes grants, keeps every chunk's copies where the
// directory says they belong (repairing, draining, rebalancing: reconcile.ts), and deletes every
// replica before the catalog entry goes, on request or when retention ends.
import type {
  ChunkReportRequest, ManagerRegion, CommitResponse, ConfirmResponse, ContentInfo, GrantResponse, RegisterChunksRequest, RegisterChunksResponse,
  ReplicaAudit, RevokeGrantResponse, UploadSession,
} from '../../protocol/api.ts';
import type { Manifest } from '../../protocol/manifest.ts';
import type { IndexerSnapshot } from '../../protocol/media/media-indexer.ts';
import type { PortalEnv } from '../env.ts';
import { toRpc, type RpcResult } from '../http.ts';
import { signingKey } from '../keys.ts';
import { restoreContent, type ContentRow } from '../registry/contents.ts';
import { logEvent } from '../registry/events.ts';
import { replacePlacements } from '../registry/placements.ts';
import type { ViewerAccess } from './access.ts';
import { commitUpload } from './commit.ts';
import type { Caller, ManagerDeps } from './deps.ts';
import { AuditStore } from './audit-store.ts';
import { DemandBook } from './demand-book.ts';
import { copiesState, decideDemand, demandInfo, managerHome } from './demand.ts';
import { loadDirectory } from './directory.ts';
import { demandSettings } from '../demand-policy.ts';
import { GrantStore } from './grant-store.ts';
import { createGrant, revokeGrant } from './grants.ts';
import { mediaProgress, saveMediaProgress } from './media.ts';
import { openUpload, type OpenInput } from './open.ts';
import { confirmChunks, registerChunks } from './placement-flow.ts';
import { askReconcile, deferReconcile, reconcileSlice, reconcileState } from './reconcile.ts';
import { removeContent } from './remove.ts';
import { runDueAudits } from './replica-audit.ts';
import { dueDuty, nextAlarmAt } from './schedule.ts';
import { uploadLimits } from '../upload-limits.ts';
import { MovableManager } from './movable.ts';
import type { ContentRecord } from './store.ts';
import { buildInfo, buildManifest, sessionOf } from './views.ts';
import { BunsanError } from '../../protocol/errors.ts';

type Removal = { state: 'deleted' | 'deleting'; pendingNodes: string[] };

export class ContentManager extends MovableManager {
  private readonly grants: GrantStore;
  private readonly audits: AuditStore;
  /**
   * The content's demand, counted in memory between writes. Made at first use by the object in
   * charge: an object that received its content in a hand-off reads the imported record then.
   */
  private bookHere: DemandBook | null = null;

  constructor(ctx: DurableObjectState, env: PortalEnv) {
    super(ctx, env);
    this.grants = new GrantStore(ctx.storage.sql);
    this.audits = new AuditStore(ctx.storage.sql);
  }

  private get book(): DemandBook {
    return (this.bookHere ??= new DemandBook(this.store, demandSettings(this.env).smoothMs));
  }

  private async deps() {
    return {
      env: this.env, store: this.store, key: await signingKey(this.env.SIGNING_KEY), now: () => Date.now(),
      fetch: (u: RequestInfo | URL, i?: RequestInit) => fetch(u, i), book: this.book,
    };
  }

  /** When demand must be decided again (raised copies watch their cool-down), kept with the manager's state. */
  private demandDue(): number | null {
    return this.store.meta<number>('demand-due');
  }

  private async decideDemandNow(deps?: ManagerDeps): Promise<void> {
    deps ??= await this.deps();
    const due = await decideDemand(deps, this.book, await loadDirectory(this.env, deps.now()));
    this.store.setMeta('demand-due', due);
  }

  /** One alarm serves the delete retry, the retention end, the audits and idle uploads: set it to whichever is due first. */
  protected async reschedule(): Promise<void> {
    const record = this.store.record();
    const reconcileDue = record?.state === 'committed' ? reconcileState(await this.deps()).due : null;
    const demandDue = record?.state === 'committed' ? this.demandDue() : null;
    const at = nextAlarmAt(record, Date.now(), this.audits.nextDue(), reconcileDue, this.idleDue(record), demandDue);
    if (at === null) await this.ctx.storage.deleteAlarm();
    else await this.ctx.storage.setAlarm(at);
  }

  /** When an open upload counts as abandoned: its last progress (or its open) plus the idle limit. */
  private idleDue(record: ContentRecord | null): number | null {
    if (record?.state !== 'uploading') return null;
    return (this.store.lastActivity() ?? record.createdAt) + uploadLimits(this.env).idleMs;
  }

  /** The owner made progress: the idle clock starts again (an upload from before the clock gets its alarm now). */
  private async progressed<T>(result: T): Promise<T> {
    this.store.touch(Date.now());
    if ((await this.ctx.storage.getAlarm()) === null) await this.reschedule();
    return result;
  }

  private async finishRemoval(r: Removal): Promise<Removal> {
    if (r.state === 'deleted') {
      await this.ctx.storage.deleteAlarm();
      await this.ctx.storage.deleteAll();
    } else {
      await this.reschedule();
    }
    return r;
  }

  open(input: OpenInput): Promise<RpcResult<UploadSession>> {
    return this.route((m) => m.open(input), () => toRpc(async () => {
      const session = await openUpload(await this.deps(), input);
      this.store.touch(Date.now());
      await this.reschedule();
      return session;
    }));
  }

  session(caller: Caller): Promise<RpcResult<UploadSession>> {
    return this.route((m) => m.session(caller), () => toRpc(async () => sessionOf(await this.deps(), caller)));
  }

  register(caller: Caller, body: RegisterChunksRequest): Promise<RpcResult<RegisterChunksResponse>> {
    return this.route((m) => m.register(caller, body), () => toRpc(async () => this.progressed(await registerChunks(await this.deps(), caller, body))));
  }

  confirm(caller: Caller, hashes: string[]): Promise<RpcResult<ConfirmResponse>> {
    return this.route((m) => m.confirm(caller, hashes), () => toRpc(async () => this.progressed(await confirmChunks(await this.deps(), caller, hashes))));
  }

  /** `media`: the uploader's index, checked here (the portal has parsed it, but trusts nothing it relays) */
  commit(caller: Caller, media?: unknown): Promise<RpcResult<CommitResponse>> {
    return this.route((m) => m.commit(caller, media), () => toRpc(async () => {
      const done = await commitUpload(await this.deps(), caller, media);
      await this.reschedule(); // an idle upload's wake-up is not needed any more
      return done;
    }));
  }

  /** The edge indexer's state in gateway mode, to go on from where the last request left it. */
  mediaProgress(caller: Caller): Promise<RpcResult<IndexerSnapshot | null>> {
    return this.route((m) => m.mediaProgress(caller), () => toRpc(async () => mediaProgress(await this.deps(), caller)));
  }

  saveMediaProgress(caller: Caller, state: IndexerSnapshot): Promise<RpcResult<null>> {
    return this.route((m) => m.saveMediaProgress(caller, state), () => toRpc(async () => this.progressed((saveMediaProgress(await this.deps(), caller, state), null))));
  }

  manifest(access: ViewerAccess = {}): Promise<RpcResult<Manifest>> {
    return this.route((m) => m.manifest(access), () => toRpc(async () => {
      const m = await buildManifest(await this.deps(), this.grants, access);
      // Counted once it is handed out: a refused request is no demand.
      if (access.viewer) this.book.noteOpen(access.viewer, Date.now());
      return m;
    }));
  }

  info(caller: Caller): Promise<RpcResult<ContentInfo>> {
    return this.route((m) => m.info(caller), () => toRpc(async () => {
      const self = this.self();
      const deps = await this.deps();
      const info = await buildInfo(deps, caller);
      return {
        ...info, ...(self ? { manager: { name: self.name, region: self.region } } : {}),
        ...demandInfo(deps, this.store.record()!, this.book, await loadDirectory(this.env, deps.now())),
      };
    }));
  }

  /**
   * The sweep's reading of what this content's nodes delivered since the last one: the demand is
   * updated and the copies decided again.
   */
  noteServed(reading: { bytes: number; byNode: Record<string, number>; dtMs: number }): Promise<{ current: number; moveTo: ManagerRegion | null } | null> {
    return this.route((m) => m.noteServed(reading), async () => {
      // A content being deleted (or not yet committed) has no demand.
      const record = this.store.record();
      if (record?.state !== 'committed') return null;
      const deps = await this.deps();
      this.book.noteServed(reading.bytes, reading.byNode, reading.dtMs, deps.now());
      await this.decideDemandNow(deps);
      await this.reschedule();
      // Viewers gone elsewhere for good: the sweep moves the manager to them (handoff.ts).
      const moveTo = managerHome(deps, this.book, this.self()?.region ?? null);
      return { current: copiesState(deps)?.current ?? record.replicas, moveTo };
    });
  }

  grant(caller: Caller, req: { ttlSeconds: number; label?: string }): Promise<RpcResult<GrantResponse>> {
    return this.route((m) => m.grant(caller, req), () => toRpc(async () => createGrant(await this.deps(), this.grants, caller, req)));
  }

  revokeGrant(caller: Caller, id: string): Promise<RpcResult<RevokeGrantResponse>> {
    return this.route((m) => m.revokeGrant(caller, id), () => toRpc(async () => revokeGrant(await this.deps(), this.grants, caller, id)));
  }

  remove(caller: Caller): Promise<RpcResult<Removal>> {
    return this.route((m) => m.remove(caller), () => toRpc(async () => this.finishRemoval(await removeContent(await this.deps(), caller))));
  }

  /**
   * A client reported that `node` served chunk `index` wrong: the manager will look for itself
   * (from its alarm, so the reporter does not wait). Repeats while one is pending or shortly
   * after one finished are not queued.
   */
  queueAudit(r: ChunkReportRequest): Promise<RpcResult<{ queued: boolean }>> {
    return this.route((m) => m.queueAudit(r), () => toRpc(async () => {
      const record = this.store.record();
      const chunk = this.store.chunkByHash(r.hash);
      if (!record || record.state !== 'committed' || chunk?.idx !== r.index) return { queued: false };
      const queued = this.audits.queue({ idx: r.index, hash: r.hash, node: r.node, code: r.code }, Date.now());
      if (queued) await this.reschedule();
      return { queued };
    }));
  }

  /**
   * The sweep (or an operator) asks for a reconcile pass: the directory changed, a node came back,
   * or it is time to check every copy (`verify`). The pass runs from the alarm.
   */
  reconcile(reason: string, verify = false): Promise<{ queued: boolean }> {
    return this.route((m) => m.reconcile(reason, verify), () => (async () => {
      if (this.store.record()?.state !== 'committed') return { queued: false };
      askReconcile(await this.deps(), reason, verify);
      await this.reschedule();
      return { queued: true };
    })());
  }

  /** Does this manager count on `node` holding chunk `hash` (stored, or a copy on its way)? */
  wants(hash: string, node: string): Promise<boolean> {
    return this.route((m) => m.wants(hash, node), async () => {
      const r = this.store.replicas(hash).find((x) => x.node_id === node);
      return !!r && r.state !== 'deleting';
    });
  }

  /** Writes this content's catalog row and placement index again, from the manager's own state. */
  republish(): Promise<{ republished: boolean }> {
    return this.route((m) => m.republish(), () => this.republishHere());
  }

  private async republishHere(): Promise<{ republished: boolean }> {
    const r = this.store.record();
    if (!r || r.state === 'deleting') return { republished: false };
    const self = this.self()!;
    const row: ContentRow = {
      id: r.id, provider_id: r.providerId, name: r.name, type: r.type, size: r.size, version: r.version, chunk_count: r.chunkCount,
      replicas: r.replicas, state: r.state, created_at: r.createdAt, committed_at: r.committedAt ?? null, visibility: r.visibility ?? 'public',
      min_grade: r.minGrade ?? 0, publish_at: r.publishAt ?? null, expire_at: r.expireAt ?? null,
      manager: self.name, manager_region: self.region,
    };
    const sealed = new Map(this.store.chunks().map((c) => [c.hash, c.sealed_len ?? 0]));
    const placed = this.store.replicas().filter((x) => x.state === 'stored' && sealed.has(x.hash))
      .map((x) => ({ hash: x.hash, node: x.node_id, bytes: sealed.get(x.hash)! }));
    const stmts = [restoreContent(this.env.DB, row), ...(r.state === 'committed' ? replacePlacements(this.env.DB, r.id, placed, Date.now()) : [])];
    for (let i = 0; i < stmts.length; i += 500) await this.env.DB.batch(stmts.slice(i, i + 500));
    return { republished: true };
  }

  audited(): Promise<ReplicaAudit[]> {
    return this.route((m) => m.audited(), async () => this.audits.list().map((a) => ({
      index: a.idx, hash: a.hash, node: a.node_id, queuedAt: a.queued_at, attempts: a.attempts,
      outcome: a.outcome, doneAt: a.done_at, target: a.target,
    })));
  }

  /**
   * Audits reported replicas, runs a slice of a reconcile pass, retries a delete that could not
   * reach every node, deletes the content when retention ends, and removes an upload left idle
   * too long. (An object that handed its content over runs none of this: movable.ts.)
   */
  protected async chargeAlarm(): Promise<void> {
    this.book.flush(Date.now());
    const demandDue = this.demandDue();
    if (this.store.record()?.state === 'committed' && demandDue !== null && demandDue <= Date.now()) {
      await this.decideDemandNow().catch((err: Error) => {
        console.warn(`demand of ${this.store.record()?.id} not decided: ${err.message}`);
        this.store.setMeta('demand-due', Date.now() + 30_000);
      });
    }
    if (this.store.record()?.state === 'committed' && this.audits.nextDue() !== null) await runDueAudits(await this.deps(), this.audits);
    if (this.store.record()?.state === 'committed') {
      const deps = await this.deps();
      await reconcileSlice(deps).catch((err: Error) => {
        // The pass stays due, a little later; the next alarm picks it up where it stopped.
        console.warn(`reconcile of ${this.store.record()?.id} stopped: ${err.message}`);
        deferReconcile(deps, 10_000);
      });
    }
    const record = this.store.record();
    const duty = dueDuty(record, Date.now(), this.idleDue(record));
    if (!record || !duty) return this.reschedule();
    const deps = await this.deps();
    if (duty === 'expire') {
      await logEvent(this.env.DB, { at: deps.now(), kind: 'content-expired', content: record.id, detail: { expireAt: record.expireAt } }).run();
    }
    if (duty === 'abandoned') {
      const since = this.store.lastActivity() ?? record.createdAt;
      await logEvent(this.env.DB, { at: deps.now(), kind: 'upload-abandoned', content: record.id, bytes: record.size, detail: { idleSince: since } }).run();
    }
    // The same flow as `rm`, as the operator: every replica on every node, then the catalog entry.
    // Every node call has its deadline (edge/node-client.ts); a node that does not answer keeps
    // the content deleting, and the next alarm asks again.
    const r = await removeContent(deps, { providerId: record.providerId, admin: true }).catch((e): Removal => {
      if (e instanceof BunsanError) return { state: 'deleting', pendingNodes: [] };
      throw e;
    });
    await this.finishRemoval(r);
  }
}
