// temporary: profile the client's download CPU
import { Session } from 'node:inspector/promises';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { webcrypto, createHash } from 'node:crypto';
import { startStack } from '../scripts/stack/stack.ts';
import { ensureCredentials } from '../scripts/stack/provision.ts';
import { createApiClient } from '../protocol/api-client.ts';
import { uploadDirect } from '../protocol/upload/direct.ts';
import { importPublicKey } from '../protocol/signing.ts';
import { downloadContent } from '../protocol/engine/download.ts';
import { cliEngine } from '../cli/engine-options.ts';
import { streamBytes } from './item-bytes.ts';
import { ShaperClient } from './shaper-client.ts';
import { PROFILES } from './profiles.ts';
const c = webcrypto as any;
const home = mkdtempSync(join(tmpdir(), 'prof-'));
const shaper = await ShaperClient.start([0,1,2,3].map((i) => ({ port: 31005 + i, upstream: `http://127.0.0.1:${31001 + i}` })));
const stack = await startStack({ home, port: 31000, nodes: 4, publicUrls: shaper.urls });
await shaper.shape(null);
const creds = await ensureCredentials(stack);
const api = createApiClient({ portal: creds.portal, token: creds.token, fetch: (u, i) => fetch(u, i) });
const size = 64 << 20;
const s = await api.openUpload({ name: 'x', size, replicas: 4 });
await uploadDirect({ api, session: s, crypto: c, fetch: (u, i) => fetch(u, i), read: async (o, l) => streamBytes('x', o, l) });
await api.commit(s.id);
const publicKey = await importPublicKey(c, (await api.keys()).signingPublicKey);
await shaper.shape(PROFILES[0].links);
for (const prof of [false, false]) {
  const eld = monitorEventLoopDelay({ resolution: 1 }); eld.enable();
  const manifest = await api.manifest(s.id);
  const e = cliEngine({ manifest, publicKey, crypto: c, api, home: mkdtempSync(join(tmpdir(), 'h-')) });
  const session = new Session();
  if (prof) { session.connect(); await session.post('Profiler.enable'); await session.post('Profiler.start'); }
  const t0 = performance.now(); const cpu0 = process.cpuUsage();
  const h = createHash('sha256');
  for await (const p of downloadContent(e.options)) h.update(p);
  const cpu = process.cpuUsage(cpu0);
  eld.disable(); console.log(`loop delay p50 ${(eld.percentile(50)/1e6).toFixed(1)} p99 ${(eld.percentile(99)/1e6).toFixed(1)} max ${(eld.max/1e6).toFixed(1)} ms`);
  console.log(`download ${(performance.now() - t0).toFixed(0)} ms, cpu user ${(cpu.user/1e3).toFixed(0)} ms sys ${(cpu.system/1e3).toFixed(0)} ms`);
  if (prof) { const { profile } = await session.post('Profiler.stop'); writeFileSync('/tmp/prof/client.cpuprofile', JSON.stringify(profile)); }
}
await stack.stop();
await shaper.stop();
