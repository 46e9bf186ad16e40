// The shaper in a process of its own, so shaping 4 links' worth of bytes does not compete with
// the client under test for one event loop. Driven over IPC by ShaperClient (shaper-client.ts).
import { Shaper, type FaultAt, type LinkShape, type ShaperTarget } from './shaper.ts';

let shaper: Shaper | null = null;

type Command =
  | { cmd: 'start'; targets: ShaperTarget[] }
  | { cmd: 'shape'; links: Array<Omit<LinkShape, 'rate'> & { rate: number | null }> | null }
  | { cmd: 'begin'; fault?: FaultAt }
  | { cmd: 'stats' }
  | { cmd: 'stop' };

process.on('message', async (msg: { id: number } & Command) => {
  try {
    let result: unknown = null;
    if (msg.cmd === 'start') {
      shaper = new Shaper(msg.targets);
      await shaper.start();
      result = shaper.urls;
    } else if (msg.cmd === 'shape') shaper!.setShape(msg.links?.map((l) => ({ ...l, rate: l.rate ?? Infinity })) ?? null);
    else if (msg.cmd === 'begin') await shaper!.beginRun(msg.fault);
    else if (msg.cmd === 'stats') result = shaper!.stats();
    else if (msg.cmd === 'stop') {
      await shaper?.stop();
      process.send!({ id: msg.id, result: null }, () => process.exit(0));
      return;
    }
    process.send!({ id: msg.id, result });
  } catch (err) {
    process.send!({ id: msg.id, error: (err as Error).message });
  }
});
process.on('disconnect', () => process.exit(0));
