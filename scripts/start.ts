// npm start: the whole system on loopback with a demo item ready. Ctrl-C stops it; state stays
// in BUNSAN_HOME (default .bunsan/) for the next start.
import { ensureCredentials, ensureDemo } from './stack/provision.ts';
import { stackOptionsFromEnv, startStack } from './stack/stack.ts';

const opts = stackOptionsFromEnv();
const started = Date.now();
const stack = await startStack(opts);
let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await stack.stop();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);

try {
  const creds = await ensureCredentials(stack);
  const demo = await ensureDemo(stack, creds);
  const lines = [
    `bunsan is running (${Date.now() - started} ms), state in ${stack.home}`,
    `  portal   ${stack.portalUrl}   (open it in a browser: the library, the player, uploads)`,
    ...stack.nodes.map((n) => `  node ${n.id.padEnd(3)} ${n.url}${n.publicUrl !== n.url ? `  (advertised as ${n.publicUrl})` : ''}${n.kind === 'self-hosted' ? `  (self-hosted, in ${n.dataDir})` : ''}`),
    `  demo     ${demo.video}  (bunsan-demo.webm: play it at ${stack.portalUrl}/#/play/${demo.video})`,
    `  demo     ${demo.text}  (bunsan-demo.txt, also at ${stack.portalUrl}/c/${demo.text})`,
    '',
    `try:  npx bunsan ls        npx bunsan get ${demo.text} -o demo.txt        npx bunsan upload FILE`,
    'Ctrl-C stops everything.',
  ];
  console.log(lines.join('\n'));
} catch (err) {
  console.error('bunsan failed to start:', err);
  await stack.stop();
  process.exit(1);
}
