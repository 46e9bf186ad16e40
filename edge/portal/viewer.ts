// Who is asking for a manifest, as demand counts viewers (claim 4): a key that is the same for
// one viewer's repeated requests (so a flood from one client counts once per window), and the
// region it asks from (so copies go where the viewers are). Credentials are keyed by their
// digest and never stored; without one, the client's address, as the rate limiter keys it.
import { utf8 } from '../../protocol/bytes.ts';
import { sha256Hex } from '../../protocol/hash.ts';
import { clientAddress } from '../client-address.ts';
import type { PortalEnv } from '../env.ts';
import { hintFromCf } from './manager-region.ts';
import { addressKey } from './rate-limit.ts';

export interface Viewer { key: string; region: string }

const REGION = /^[A-Za-z0-9_.-]{1,64}$/;

/**
 * The viewer's region: a header the platform in front sets, when CLIENT_REGION_HEADER names one
 * (the local stack, or a proxy that geolocates), else the location hint of where the platform
 * says the request came from (wnam, enam, weur, eeur, apac, …: the names managers are placed by,
 * so that a manager can follow its viewers). Demand prefers nodes whose region is spelled the
 * same: name nodes by these hints for their copies to follow viewers.
 */
export function viewerRegion(req: Request, env: PortalEnv): string {
  const name = env.CLIENT_REGION_HEADER?.trim();
  const raw = name ? req.headers.get(name)?.trim() : hintFromCf((req as { cf?: Parameters<typeof hintFromCf>[0] }).cf);
  return raw && REGION.test(raw) ? raw : '';
}

export async function viewerOf(req: Request, env: PortalEnv, credential: string | undefined): Promise<Viewer> {
  const key = credential
    ? `cred:${(await sha256Hex(crypto, utf8(credential))).slice(0, 32)}`
    : addressKey(clientAddress(req.headers, env));
  return { key, region: viewerRegion(req, env) };
}
