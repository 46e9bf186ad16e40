// Where a new upload's manager is made: near the provider who opens it. On Cloudflare the
// request's `cf` says the continent (and longitude, country); it maps onto the platform's
// location hints. Locally there is no `cf`: the body's `region` or the X-Bunsan-Region header
// says it, and without either the platform places the object where it likes (no hint).
import { ManagerRegion } from '../../protocol/api.ts';
import { BunsanError } from '../../protocol/errors.ts';

export const REGION_HEADER = 'x-bunsan-region';

/** Countries of Asia the platform serves from its Middle East locations. */
const MIDDLE_EAST = new Set(['AE', 'BH', 'IL', 'IQ', 'IR', 'JO', 'KW', 'LB', 'OM', 'PS', 'QA', 'SA', 'SY', 'YE']);

type CfLike = { continent?: unknown; longitude?: unknown; country?: unknown };

/** The location hint for a request's origin as the platform reports it, or null. */
export function hintFromCf(cf: CfLike | undefined): ManagerRegion | null {
  if (!cf || typeof cf.continent !== 'string') return null;
  const lon = Number(cf.longitude);
  const west = (edge: number) => Number.isFinite(lon) && lon < edge;
  switch (cf.continent) {
    case 'NA': return west(-100) ? 'wnam' : 'enam';
    case 'SA': return 'sam';
    case 'EU': return Number.isFinite(lon) && lon >= 20 ? 'eeur' : 'weur';
    case 'AS': return typeof cf.country === 'string' && MIDDLE_EAST.has(cf.country) ? 'me' : 'apac';
    case 'OC': return 'oc';
    case 'AF': return 'afr';
    default: return null; // Antarctica, or a value this code does not know
  }
}

/** The body's choice first, then the header, then the platform's view of the request. */
export function managerRegionFor(req: Request, explicit?: ManagerRegion): ManagerRegion | null {
  if (explicit) return explicit;
  const header = req.headers.get(REGION_HEADER);
  if (header !== null) {
    const r = ManagerRegion.safeParse(header.trim());
    if (!r.success) throw new BunsanError('bad_request', `${REGION_HEADER} must be one of ${ManagerRegion.options.join(', ')}`);
    return r.data;
  }
  return hintFromCf((req as { cf?: CfLike }).cf);
}
