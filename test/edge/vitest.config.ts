import { cloudflareTest, readD1Migrations } from '@cloudflare/vitest-plugin';
import { webcrypto } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { defineProject } from 'vitest/config';
import { generateSigningKeyPair } from '../../protocol/signing.ts';
import { toBase64Url } from '../../protocol/bytes.ts';

const root = (p: string) => fileURLToPath(new URL(`../../${p}`, import.meta.url));
const keys = await generateSigningKeyPair(webcrypto as unknown as Crypto);

// The portal Worker (with its manager class) is the main module; node tests call the node app
// directly with a node-shaped env built from the same bindings. The node-protocol suite
// (test/node-protocol/) runs here against the Worker node, and in the selfhost project against
// the self-hosted node: `#node-target` names the platform.
export default defineProject({
  root: root('test'),
  resolve: { alias: { '#node-target': root('test/edge/worker-node-target.ts') } },
  plugins: [
    cloudflareTest({
      main: root('edge/portal/index.ts'),
      miniflare: {
        compatibilityDate: '2026-07-01',
        // vitest's own runner inside workerd needs node:* modules; the Workers themselves do not.
        compatibilityFlags: ['nodejs_compat'],
        d1Databases: ['DB'],
        r2Buckets: ['BUCKET', 'BUCKET2', 'BUCKET3'],
        durableObjects: {
          MANAGER: { className: 'ContentManager', useSQLite: true },
          GATE: { className: 'NodeGate', useSQLite: true },
          SWEEPER: { className: 'Sweeper', useSQLite: true },
        },
        // The deployed limits, and a tiny one the rate-limit test swaps in to see a 429.
        ratelimits: {
          RATE_LIMIT_TOKEN: { namespace_id: '5001', simple: { limit: 6000, period: 60 } },
          RATE_LIMIT_ADDRESS: { namespace_id: '5002', simple: { limit: 12000, period: 60 } },
          RATE_LIMIT_TINY: { namespace_id: '5003', simple: { limit: 3, period: 60 } },
        },
        bindings: {
          SIGNING_KEY: keys.privateKey,
          SIGNING_PUBLIC_KEY: keys.publicKey,
          KEK: toBase64Url(webcrypto.getRandomValues(new Uint8Array(32))),
          ADMIN_TOKEN: 'test-admin-token',
          NODE_ID: 'n1',
          // The lifecycle tests take a node down and wait out its grace period.
          DOWN_GRACE_SECONDS: '1',
          ORPHAN_GRACE_SECONDS: '0',
          // Demand: viewers name their region in a header, and a manager follows a few of them
          // after a minute (the deployment waits for fifty over six hours).
          CLIENT_REGION_HEADER: 'x-bunsan-viewer-region',
          DEMAND_MOVE_MIN_VIEWERS: '3',
          DEMAND_MOVE_AFTER_SECONDS: '60',
          TEST_MIGRATIONS: await readD1Migrations(root('edge/migrations')),
        },
      },
    }),
  ],
  test: { name: 'edge', include: ['edge/**/*.test.ts', 'node-protocol/**/*.test.ts'], setupFiles: ['./edge/apply-migrations.ts'] },
});
