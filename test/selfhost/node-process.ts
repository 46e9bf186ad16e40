// A self-hosted node over a folder, as a process of its own, for tests that kill it: the node
// application over the disk store on a port of its own choosing, without a portal. Prints one
// JSON line {url} when it listens. Settings come in the environment: NODE_DIR, NODE_ID,
// SIGNING_PUBLIC_KEY, CAPACITY (optional).
import { openDiskStore } from '../../selfhost/disk-store.ts';
import { createSelfHostedApp } from '../../selfhost/node-app.ts';
import { listen } from '../../selfhost/server.ts';

const env = process.env;
const store = await openDiskStore({ dir: env.NODE_DIR!, capacity: env.CAPACITY ? Number(env.CAPACITY) : null });
const app = createSelfHostedApp({ store, nodeId: env.NODE_ID!, signingPublicKey: env.SIGNING_PUBLIC_KEY! });
const server = await listen(app.fetch, 0, '127.0.0.1');
process.stdout.write(JSON.stringify({ url: server.url }) + '\n');
