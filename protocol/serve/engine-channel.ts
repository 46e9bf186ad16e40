// The name and message shape of the BroadcastChannel on which the service worker reports its
// engine's events to every open page (the player's chunk map and per-node throughput).
import type { EngineEvent } from '../engine/events.ts';

export const ENGINE_CHANNEL = 'bunsan-engine';

export interface RelayedEvent { id: string; event: EngineEvent }
