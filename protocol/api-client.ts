// A typed client of the portal API, shared by the CLI and the PWA. Responses are parsed with
// the same schemas the edge uses; error envelopes come back as BunsanError.
import type { z } from 'zod';
import {
  CommitResponse, ConfirmResponse, ContentInfo, ContentList, CreateProviderResponse, GatewayResult, KeysResponse,
  NodeList, RegisterChunksResponse, RemoveResponse, UploadSession, type OpenUploadRequest, type RegisterChunksRequest,
} from './api.ts';
import { BunsanError, fromEnvelope } from './errors.ts';
import { Manifest } from './manifest.ts';
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
      throw new BunsanError('node_unreachable', `portal ${opts.portal} is unreachable: ${(err as Error).message}`);
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
    list: (cursor?: string) => call('GET', `/contents${cursor ? `?cursor=${id(cursor)}` : ''}`, ContentList),
    info: (cid: string) => call('GET', `/contents/${id(cid)}`, ContentInfo),
    manifest: (cid: string) => call('GET', `/contents/${id(cid)}/manifest`, Manifest),
    remove: (cid: string) => call('DELETE', `/contents/${id(cid)}`, RemoveResponse),
    openUpload: (req: OpenUploadRequest) => call('POST', '/uploads', UploadSession, req),
    session: (cid: string) => call('GET', `/uploads/${id(cid)}`, UploadSession),
    register: (cid: string, req: RegisterChunksRequest) => call('POST', `/uploads/${id(cid)}/chunks`, RegisterChunksResponse, req),
    confirm: (cid: string, hashes: string[]) => call('POST', `/uploads/${id(cid)}/confirm`, ConfirmResponse, { hashes }),
    commit: (cid: string) => call('POST', `/uploads/${id(cid)}/commit`, CommitResponse, {}),
    gateway: (cid: string, from: number, body: Uint8Array | ReadableStream<Uint8Array>, init?: RequestInit) =>
      call('PUT', `/uploads/${id(cid)}/data?from=${from}`, GatewayResult, body, init),
    createProvider: (name: string) => call('POST', '/providers', CreateProviderResponse, { name }),
  };
}
