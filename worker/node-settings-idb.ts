// The user's node settings: nodes to prefer and nodes never to ask, kept in IndexedDB by the
// settings page and read by the service worker and the in-page engine before every download.
// Read as untrusted: only valid node ids survive, and a node is never both.
import { NodeId } from '../protocol/ids.ts';
import type { NodeChoice } from '../protocol/engine/session.ts';
import { engineDb } from './engine-db.ts';

const KEY = 'nodes';
const MAX_IDS = 1024;

/** Pages tell the service worker about changes here (history forgotten). */
export const SETTINGS_CHANNEL = 'bunsan-settings';
export type SettingsMessage = { type: 'forget-history' };

function ids(v: unknown): string[] {
  if (!Array.isArray(v)) return [];
  return [...new Set(v.filter((id): id is string => NodeId.safeParse(id).success))].slice(0, MAX_IDS);
}

export function cleanChoice(v: unknown): NodeChoice {
  const o = (v && typeof v === 'object' ? v : {}) as Partial<Record<keyof NodeChoice, unknown>>;
  const exclude = ids(o.exclude);
  return { prefer: ids(o.prefer).filter((id) => !exclude.includes(id)), exclude };
}

export async function readNodeChoice(): Promise<NodeChoice> {
  return cleanChoice(await (await engineDb()).get('settings', KEY));
}

export async function writeNodeChoice(c: NodeChoice): Promise<NodeChoice> {
  const clean = cleanChoice(c);
  await (await engineDb()).put('settings', clean, KEY);
  return clean;
}
