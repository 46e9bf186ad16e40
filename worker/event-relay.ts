// Engine events from the service worker to every open page, so the player can show which node
// delivered each chunk while the proxy works. A BroadcastChannel needs no client bookkeeping.
import type { EngineEvent } from '../protocol/engine/events.ts';
import { ENGINE_CHANNEL, type RelayedEvent } from '../protocol/serve/engine-channel.ts';

export function eventRelay(): (id: string, e: EngineEvent) => void {
  const channel = typeof BroadcastChannel === 'undefined' ? null : new BroadcastChannel(ENGINE_CHANNEL);
  return (id, event) => channel?.postMessage({ id, event } satisfies RelayedEvent);
}
