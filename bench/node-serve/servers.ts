// One server of the self-hosted node benchmark, in a process of its own (so that its memory is
// its own and the load generator does not share its event loop). Prints {url} when it listens.
//   static DIR   a plain node:http static server: GET /{hash} streams the chunk file's bytes
//                (after its header) with fs.createReadStream — the baseline
//   node DIR     the self-hosted node: the node application over the disk store
import { createReadStream, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { HASH_RE } from '../../protocol/hash.ts';
import { chunkPath, HEADER_BYTES, layout } from '../../selfhost/disk-layout.ts';
import { openDiskStore } from '../../selfhost/disk-store.ts';
import { createSelfHostedApp } from '../../selfhost/node-app.ts';
import { listen } from '../../selfhost/server.ts';

const [kind, dir, publicKey] = process.argv.slice(2);
// A profiler (node --cpu-prof) writes its file on a clean exit.
process.once('SIGINT', () => process.exit(0));

if (kind === 'static') {
  const l = layout(dir);
  const server = createServer((req, res) => {
    const hash = (req.url ?? '').slice(1);
    if (!HASH_RE.test(hash)) return void res.writeHead(404).end();
    const path = chunkPath(l, hash);
    let size: number;
    try {
      size = statSync(path).size - HEADER_BYTES;
    } catch {
      return void res.writeHead(404).end();
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': size });
    createReadStream(path, { start: HEADER_BYTES }).pipe(res);
  });
  server.keepAliveTimeout = 65_000;
  server.listen(0, '127.0.0.1', () => {
    process.stdout.write(JSON.stringify({ url: `http://127.0.0.1:${(server.address() as { port: number }).port}` }) + '\n');
  });
} else {
  const store = await openDiskStore({ dir, capacity: null });
  const app = createSelfHostedApp({ store, nodeId: 'bench', signingPublicKey: publicKey });
  const server = await listen(app.fetch, 0, '127.0.0.1');
  process.stdout.write(JSON.stringify({ url: server.url }) + '\n');
}
