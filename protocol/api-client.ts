// A typed client of the portal API, shared by the CLI and the PWA. Responses are parsed with
// the same schemas the edge uses; error envelopes come back as BunsanError.
import type { z } from 'zod';
import {
  ChunkReportList, ChunkReportResponse, CommitResponse, ConfirmResponse, ContentInfo, ContentList, CreateProviderResponse, GatewayResult, GrantResponse, KeysResponse,
  NodeList, RegisterChunksResponse, RemoveResponse, RevokeGrantResponse, UploadSession, type OpenUploadRequest,
  type ChunkReportRequest, type RegisterChunksRequest,
  ChunkHolders, MoveManagerResponse, NodeStatus, NodeStatusList, RebuildResponse, SweepReport, type AddNodeRequest,
} from './api.ts';
import { BunsanError, fromEnvelope } from './errors.ts';
import { InviteResponse, SELF_HOSTED_PATHS, type InviteRequest } from './self-hosted/messages.ts';
import { Manifest } from './manifest.ts';
import type { MediaIndex } from './media/media-index.ts';
import type { FetchLike } from './upload/put-chunk.ts';

export interface ApiClientOptions { portal: string; token?: string; fetch: FetchLike }

export type ApiClient = ReturnType<typeof createApiClient>;

export function createApiClient(opts: ApiClientOptions) {
  const base = opts.portal.replace(/\/+$/, '') + '/api/v1';

  async function call<S extends z.ZodType>(method: string, path: string, schema: S, body?: unknown, init: RequestInit = {}): Promise<z.infer<S>> {
    const headers: Record<string, string> = {};
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    if (body !== undefined && !(body instanceof Uint8Array) && !(body instanceof ReadableStream)) headers['content-type'] = 'application/json';
    if (body instanceof Uint8Array || body instanceof ReadableStream) headers['content-type'] = 'application/octet-stream';
    let res: Response;
    try {
      res = await opts.fetch(base + path, {
        ...init, method, headers: { ...headers, ...(init.headers as Record<string, string> | undefined) },
        body: body === undefined ? undefined : body instanceof Uint8Array || body instanceof ReadableStream ? (body as BodyInit) : JSON.stringify(body),
      });
    } catch (err) {
      const cause = (err as { cause?: { message?: string } }).cause?.message;
      throw new BunsanError('node_unreachable', `portal ${opts.portal} is unreachable: ${(err as Error).message}${cause ? ` (${cause})` : ''}`);
    }
    const json = await res.json().catch(() => null);
    if (!res.ok) throw fromEnvelope(res.status, json);
    const parsed = schema.safeParse(json);
    if (!parsed.success) throw new BunsanError('bad_request', `portal answered ${method} ${path} with an unexpected body: ${parsed.error.issues[0]?.message}`);
    return parsed.data;
  }

  const id = (s: string) => encodeURIComponent(s);
  return {
    portal: opts.portal,
    keys: () => call('GET', '/keys', KeysResponse),
    nodes: () => call('GET', '/nodes', NodeList),
    /** Operator only: every node with its state, holdings, health and backlog. */
    nodeStatuses: () => call('GET', '/nodes', NodeStatusList),
    addNode: (req: AddNodeRequest) => call('POST', '/nodes', NodeStatus, req),
    drainNode: (node: string) => call('POST', `/nodes/${id(node)}/drain`, NodeStatus),
    undrainNode: (node: string) => call('POST', `/nodes/${id(node)}/undrain`, NodeStatus),
    retireNode: (node: string, force = false) => call('POST', `/nodes/${id(node)}/retire`, NodeStatus, { force }),
    sweep: () => call('POST', '/sweep', SweepReport),
    /** Who holds a chunk: the registry's index, and with `ask` every node's own answer. */
    holders: (hash: string, ask = false) => call('GET', `/chunks/${id(hash)}${ask ? '?ask=1' : ''}`, ChunkHolders),
    rebuildRegistry: () => call('POST', '/registry/rebuild', RebuildResponse),
    list: (cursor?: string) => call('GET', `/contents${cursor ? `?cursor=${id(cursor)}` : ''}`, ContentList),
    info: (cid: string) => call('GET', `/contents/${id(cid)}`, ContentInfo),
    /** A grant (for a private content) goes in place of the API token: it is the viewer's credential. */
    manifest: (cid: string, grant?: string) =>
      call('GET', `/contents/${id(cid)}/manifest`, Manifest, undefined, grant ? { headers: { authorization: `Bearer ${grant}` } } : {}),
    grant: (cid: string, ttlSeconds: number, label?: string) =>
      call('POST', `/contents/${id(cid)}/grants`, GrantResponse, label === undefined ? { ttlSeconds } : { ttlSeconds, label }),
    revokeGrant: (cid: string, grantId: string) => call('DELETE', `/contents/${id(cid)}/grants/${id(grantId)}`, RevokeGrantResponse),
    /** Operator only: hands the content's manager over to a new object near `region`. */
    moveManager: (cid: string, region: string, reason?: string) =>
      call('POST', `/contents/${id(cid)}/manager`, MoveManagerResponse, reason === undefined ? { region } : { region, reason }),
    remove: (cid: string) => call('DELETE', `/contents/${id(cid)}`, RemoveResponse),
    /** Tells the portal a node served a chunk that fails verification (no credential needed). */
    report: (cid: string, r: ChunkReportRequest) => call('POST', `/contents/${id(cid)}/reports`, ChunkReportResponse, r),
    /** The reports logged for a content (operator only). */
    reports: (cid: string) => call('GET', `/contents/${id(cid)}/reports`, ChunkReportList),
    openUpload: (req: OpenUploadRequest) => call('POST', '/uploads', UploadSession, req),
    session: (cid: string) => call('GET', `/uploads/${id(cid)}`, UploadSession),
    register: (cid: string, req: RegisterChunksRequest) => call('POST', `/uploads/${id(cid)}/chunks`, RegisterChunksResponse, req),
    confirm: (cid: string, hashes: string[]) => call('POST', `/uploads/${id(cid)}/confirm`, ConfirmResponse, { hashes }),
    /** `media`: the index the uploader built as it split the file (null or absent: none) */
    commit: (cid: string, media?: MediaIndex | null) => call('POST', `/uploads/${id(cid)}/commit`, CommitResponse, media ? { media } : {}),
    gateway: (cid: string, from: number, body: Uint8Array | ReadableStream<Uint8Array>, init?: RequestInit) =>
      call('PUT', `/uploads/${id(cid)}/data?from=${from}`, GatewayResult, body, init),
    createProvider: (name: string) => call('POST', '/providers', CreateProviderResponse, { name }),
    /** A one-time join token for a self-hosted node (operator only). */
    inviteNode: (req: InviteRequest) => call('POST', SELF_HOSTED_PATHS.invites, InviteResponse, req),
  };
}
