// Who is asking for a manifest, as demand counts viewers (claim 4): a key that is the same for
// one viewer's repeated requests (so a flood from one client counts once per window), and the
// region it asks from (so copies go where the viewers are). Credentials are keyed by their
// digest and never stored; without one, the client's address, as the rate limiter keys it.
import { utf8 } from '../../protocol/bytes.ts';
import { sha256Hex } from '../../protocol/hash.ts';
import { clientAddress } from '../client-address.ts';
import type { PortalEnv } from '../env.ts';
import { addressKey } from './rate-limit.ts';

export interface Viewer { key: string; region: string }

const REGION = /^[A-Za-z0-9_.-]{1,64}$/;

/**
 * The viewer's region: a header the platform in front sets, when CLIENT_REGION_HEADER names one
 * (the local stack, or a proxy that geolocates), else Cloudflare's continent code of the request
 * (lower case: na, eu, as, oc, sa, af). Demand prefers nodes whose region is spelled the same.
 */
export function viewerRegion(req: Request, env: PortalEnv): string {
  const name = env.CLIENT_REGION_HEADER?.trim();
  const raw = name ? req.headers.get(name)?.trim() : (req as { cf?: { continent?: string } }).cf?.continent?.toLowerCase();
  return raw && REGION.test(raw) ? raw : '';
}

export async function viewerOf(req: Request, env: PortalEnv, credential: string | undefined): Promise<Viewer> {
  const key = credential
    ? `cred:${(await sha256Hex(crypto, utf8(credential))).slice(0, 32)}`
    : addressKey(clientAddress(req.headers, env));
  return { key, region: viewerRegion(req, env) };
}
