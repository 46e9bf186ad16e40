// One gate per node, so that repairs, drains and rebalancing never starve the viewers a node
// serves: at most `slots` copies run to or from the node at once, and their bytes pass a token
// bucket of `rate` bytes per second (a second's worth may burst). Managers ask before a copy and
// release after it; a lease a manager never releases (it crashed) expires by itself.
import { DurableObject } from 'cloudflare:workers';
import type { PortalEnv } from '../env.ts';
import { seconds } from '../vars.ts';

export const LEASE_MS = 120_000;

export type GateAnswer = { ok: true; lease: string } | { ok: false; retryInMs: number };

export interface GateLimits { slots: number; rate: number }

export function gateLimits(env: PortalEnv): GateLimits {
  return { slots: Math.max(1, Math.floor(seconds(env.MOVES_PER_NODE, 4))), rate: Math.max(1, seconds(env.MOVE_BYTES_PER_SECOND, 64 * 1024 * 1024)) };
}

/** The bucket and the leases, as plain state: the decision is a pure function of them and the time. */
export interface GateState { tokens: number; at: number; leases: Record<string, number> }

export function decide(s: GateState, limits: GateLimits, bytes: number, now: number, lease: string): { state: GateState; answer: GateAnswer } {
  const leases = Object.fromEntries(Object.entries(s.leases).filter(([, until]) => until > now));
  const tokens = Math.min(limits.rate, s.tokens + ((now - s.at) / 1000) * limits.rate);
  // A copy larger than the bucket passes once the bucket is full, so no chunk waits forever.
  const cost = Math.min(bytes, limits.rate);
  if (Object.keys(leases).length >= limits.slots) {
    const first = Math.min(...Object.values(leases));
    return { state: { tokens, at: now, leases }, answer: { ok: false, retryInMs: Math.max(250, Math.min(first - now, 5_000)) } };
  }
  if (tokens < cost) {
    return { state: { tokens, at: now, leases }, answer: { ok: false, retryInMs: Math.ceil(((cost - tokens) / limits.rate) * 1000) } };
  }
  return { state: { tokens: tokens - cost, at: now, leases: { ...leases, [lease]: now + LEASE_MS } }, answer: { ok: true, lease } };
}

export class NodeGate extends DurableObject<PortalEnv> {
  private state(): GateState {
    return this.ctx.storage.kv.get<GateState>('gate') ?? { tokens: gateLimits(this.env).rate, at: Date.now(), leases: {} };
  }

  acquire(bytes: number): GateAnswer {
    const lease = crypto.randomUUID();
    const { state, answer } = decide(this.state(), gateLimits(this.env), bytes, Date.now(), lease);
    this.ctx.storage.kv.put('gate', state);
    return answer;
  }

  release(lease: string): void {
    const s = this.state();
    if (!(lease in s.leases)) return;
    delete s.leases[lease];
    this.ctx.storage.kv.put('gate', s);
  }
}

export const gateOf = (env: PortalEnv, node: string) => env.GATE.get(env.GATE.idFromName(node));
