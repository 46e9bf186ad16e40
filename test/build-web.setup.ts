// Vitest globalSetup: the built PWA (web/dist) must exist before a stack serves it or wrangler
// bundles it; on a fresh clone this builds it once (later runs only check it is current).
import { ensureWebBuilt } from '../scripts/web/build.ts';

export default async function setup(): Promise<void> {
  await ensureWebBuilt();
}
