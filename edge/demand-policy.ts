// Demand's settings (claims 4 and 6), [vars] of the portal, each optional with its default:
//   DEMAND_NODE_EGRESS        bytes/s a node can deliver when it does not say (100 MiB/s)
//   DEMAND_HIGH_WATER         a node above this share of its egress is hot (0.7)
//   DEMAND_LOW_WATER          cool again below this share; extra copies may go (0.35)
//   DEMAND_COOL_DOWN_SECONDS  demand low this long before extra copies go and mirrors rest (600)
//   DEMAND_SMOOTH_SECONDS     time constant of the smoothed rates (120)
//   DEMAND_MAX_COPIES         most copies per chunk demand may ask for (8)
//   DEMAND_MIN_VIEWERS        distinct viewers within 15 minutes before demand adds copies (2)
//   DEMAND_WAKE_AT, DEMAND_REST_AT  network demand over the active egress that wakes mirrors (0.8), and under which they rest (0.5)
//   DEMAND_MOVE_SHARE, DEMAND_MOVE_MIN_VIEWERS, DEMAND_MOVE_AFTER_SECONDS  a content's manager moves
//                             to the region of its viewers when at least this share of them (0.6),
//                             and this many (50), came from one other region over this long (21600)
//   CLIENT_REGION_HEADER      a header the platform sets to the viewer's region (edge/portal/viewer.ts)
import { DEFAULT_DEMAND_POLICY, type DemandPolicy } from '../protocol/demand/policy.ts';
import { seconds } from './vars.ts';

export interface DemandVars {
  DEMAND_NODE_EGRESS?: string;
  DEMAND_HIGH_WATER?: string;
  DEMAND_LOW_WATER?: string;
  DEMAND_COOL_DOWN_SECONDS?: string;
  DEMAND_SMOOTH_SECONDS?: string;
  DEMAND_MAX_COPIES?: string;
  DEMAND_MIN_VIEWERS?: string;
  DEMAND_WAKE_AT?: string;
  DEMAND_REST_AT?: string;
  DEMAND_MOVE_SHARE?: string;
  DEMAND_MOVE_MIN_VIEWERS?: string;
  DEMAND_MOVE_AFTER_SECONDS?: string;
  CLIENT_REGION_HEADER?: string;
}

export interface DemandSettings {
  policy: DemandPolicy;
  nodeEgress: number;
  smoothMs: number;
  maxCopies: number;
  minViewers: number;
  /** when a manager follows its viewers (claim 7) */
  move: { share: number; minViewers: number; afterMs: number };
}

const share = (raw: string | undefined, fallback: number) => {
  const n = Number(raw);
  return raw !== undefined && raw !== '' && n > 0 && n < 1 ? n : fallback;
};

export function demandSettings(env: DemandVars): DemandSettings {
  const d = DEFAULT_DEMAND_POLICY;
  const highWater = share(env.DEMAND_HIGH_WATER, d.highWater);
  return {
    policy: {
      ...d,
      highWater,
      lowWater: Math.min(share(env.DEMAND_LOW_WATER, d.lowWater), highWater),
      coolDownMs: seconds(env.DEMAND_COOL_DOWN_SECONDS, d.coolDownMs / 1000) * 1000,
      wakeAt: share(env.DEMAND_WAKE_AT, d.wakeAt),
      restAt: share(env.DEMAND_REST_AT, d.restAt),
    },
    nodeEgress: Math.max(1, seconds(env.DEMAND_NODE_EGRESS, 100 * 1024 * 1024)),
    smoothMs: Math.max(1, seconds(env.DEMAND_SMOOTH_SECONDS, 120)) * 1000,
    maxCopies: Math.max(1, Math.floor(seconds(env.DEMAND_MAX_COPIES, 8))),
    minViewers: Math.max(1, Math.floor(seconds(env.DEMAND_MIN_VIEWERS, 2))),
    move: {
      share: Math.max(0.5, share(env.DEMAND_MOVE_SHARE, 0.6)),
      minViewers: Math.max(1, Math.floor(seconds(env.DEMAND_MOVE_MIN_VIEWERS, 50))),
      afterMs: Math.max(60, seconds(env.DEMAND_MOVE_AFTER_SECONDS, 21_600)) * 1000,
    },
  };
}

/** Exponential smoothing over irregular intervals: the weight of the new reading grows with the time it covers. */
export function smooth(prev: number, reading: number, dtMs: number, tauMs: number): number {
  const a = 1 - Math.exp(-Math.max(0, dtMs) / tauMs);
  return prev + a * (reading - prev);
}
