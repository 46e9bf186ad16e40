// One Durable Object per content: the source document's management server for that content.
// It opens uploads (secret, stamp, chunk plan), places each chunk on nodes by rendezvous
// hashing, confirms replicas with the nodes themselves, commits, hands out manifests, and
// deletes every replica before the catalog entry goes.
import { DurableObject } from 'cloudflare:workers';
import type { CommitResponse, ConfirmResponse, ContentInfo, RegisterChunksRequest, RegisterChunksResponse, UploadSession } from '../../protocol/api.ts';
import type { Manifest } from '../../protocol/manifest.ts';
import type { PortalEnv } from '../env.ts';
import { toRpc, type RpcResult } from '../http.ts';
import { signingKey } from '../keys.ts';
import { ManagerStore } from './store.ts';
import { openUpload, type OpenInput } from './open.ts';
import { registerChunks, confirmChunks } from './placement-flow.ts';
import type { Caller } from './deps.ts';
import { commitUpload } from './commit.ts';
import { buildManifest, buildInfo, sessionOf } from './views.ts';
import { removeContent } from './remove.ts';
import { BunsanError } from '../../protocol/errors.ts';

export class ContentManager extends DurableObject<PortalEnv> {
  private readonly store: ManagerStore;

  constructor(ctx: DurableObjectState, env: PortalEnv) {
    super(ctx, env);
    this.store = new ManagerStore(ctx.storage.sql);
  }

  private async deps() {
    return { env: this.env, store: this.store, key: await signingKey(this.env.SIGNING_KEY), now: () => Date.now(), fetch: (u: RequestInfo | URL, i?: RequestInit) => fetch(u, i) };
  }

  open(input: OpenInput): Promise<RpcResult<UploadSession>> {
    return toRpc(async () => openUpload(await this.deps(), input));
  }

  session(caller: Caller): Promise<RpcResult<UploadSession>> {
    return toRpc(async () => sessionOf(await this.deps(), caller));
  }

  register(caller: Caller, body: RegisterChunksRequest): Promise<RpcResult<RegisterChunksResponse>> {
    return toRpc(async () => registerChunks(await this.deps(), caller, body));
  }

  confirm(caller: Caller, hashes: string[]): Promise<RpcResult<ConfirmResponse>> {
    return toRpc(async () => confirmChunks(await this.deps(), caller, hashes));
  }

  commit(caller: Caller): Promise<RpcResult<CommitResponse>> {
    return toRpc(async () => commitUpload(await this.deps(), caller));
  }

  manifest(): Promise<RpcResult<Manifest>> {
    return toRpc(async () => buildManifest(await this.deps()));
  }

  info(): Promise<RpcResult<ContentInfo>> {
    return toRpc(async () => buildInfo(await this.deps()));
  }

  remove(caller: Caller): Promise<RpcResult<{ state: 'deleted' | 'deleting'; pendingNodes: string[] }>> {
    return toRpc(async () => {
      const r = await removeContent(await this.deps(), caller);
      if (r.state === 'deleted') await this.ctx.storage.deleteAll();
      else await this.ctx.storage.setAlarm(Date.now() + 30_000);
      return r;
    });
  }

  /** A delete that could not reach every node retries here until every replica is gone. */
  async alarm(): Promise<void> {
    const record = this.store.record();
    if (!record || record.state !== 'deleting') return;
    const r = await removeContent(await this.deps(), { providerId: record.providerId, admin: true }).catch((e) => {
      if (e instanceof BunsanError) return { state: 'deleting' as const, pendingNodes: [] };
      throw e;
    });
    if (r.state === 'deleted') await this.ctx.storage.deleteAll();
    else await this.ctx.storage.setAlarm(Date.now() + 60_000);
  }
}
