import type { D1Migration } from '@cloudflare/vitest-plugin';
import type { PortalEnv } from '../../edge/env.ts';

declare global {
  namespace Cloudflare {
    interface Env extends PortalEnv {
      BUCKET: R2Bucket;
      BUCKET2: R2Bucket;
      BUCKET3: R2Bucket;
      RATE_LIMIT_TINY: RateLimit;
      NODE_ID: string;
      TEST_MIGRATIONS: D1Migration[];
    }
  }
}
