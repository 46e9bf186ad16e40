// What a browser says about its device, turned into the engine's DeviceHint: fewer requests and
// a smaller window on a weak phone, no hedging beyond the chunk being read when data is scarce.
import type { DeviceHint } from './estimate.ts';

/** The parts of `navigator` read here (a page's or a worker's); every one may be missing. */
export interface NavigatorLike {
  hardwareConcurrency?: number;
  /** GiB, rounded by the browser (Chromium only) */
  deviceMemory?: number;
  connection?: { effectiveType?: string; saveData?: boolean };
}

/** Links this slow cannot afford a second copy of a chunk that is only late. */
const SCARCE = new Set(['slow-2g', '2g']);

export function deviceHintFrom(nav: NavigatorLike | undefined): DeviceHint {
  const hint: DeviceHint = {};
  const mem = nav?.deviceMemory;
  const cores = nav?.hardwareConcurrency;
  if (typeof mem === 'number' && mem > 0) hint.memoryGiB = mem;
  // Browsers that hide the memory (Firefox, Safari) still tell the cores: a device with two or
  // fewer gets the budget of a 2 GiB one.
  else if (typeof cores === 'number' && cores > 0 && cores <= 2) hint.memoryGiB = 2;
  const c = nav?.connection;
  if (c?.saveData === true || (c?.effectiveType !== undefined && SCARCE.has(c.effectiveType))) hint.saveData = true;
  return hint;
}
