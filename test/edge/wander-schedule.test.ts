// A wandering content's manager inside workerd: the period is kept and shown, its chunks are
// placed on the current epoch's target at upload (so a first pass moves nothing), and after
// each pass the manager's next look is set for the first chunk whose epoch ends, never sooner
// than an eighth of the period.
import { env, runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import { planChunk } from '../../protocol/lifecycle/plan.ts';
import { wanderEpochEnd } from '../../protocol/lifecycle/wander.ts';
import type { ContentManager } from '../../edge/manager/content-manager.ts';
import type { ContentRecord } from '../../edge/manager/store.ts';
import { loadDirectory } from '../../edge/manager/directory.ts';
import { apiFor, newProvider, randomBytes, registerNode, routeNodes, uploadBytes } from './edge-stack.ts';

let owner = '';
/** The longest period: no chunk's epoch can end while the test runs (that would be a move, and a flaky count). */
const YEAR = 365 * 86_400;

beforeAll(async () => {
  routeNodes();
  for (const id of ['n1', 'n2', 'n4'] as const) await registerNode(id);
  owner = await newProvider('wander');
});

describe('a wandering content\'s manager', () => {
  it('places on the epoch\'s target, moves nothing at commit, and looks again when the first epoch ends', async () => {
    const id = await uploadBytes(owner, randomBytes(6 * 65536), { replicas: 1, wanderSeconds: YEAR });
    const info = await apiFor(owner).info(id);
    expect(info.wanderSeconds).toBe(YEAR);
    const stub = env.MANAGER.get(env.MANAGER.idFromName(id));
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const after = Date.now();
    await runInDurableObject(stub, async (_o: ContentManager, state) => {
      const meta = (k: string) => JSON.parse(state.storage.sql.exec<{ v: string }>('SELECT v FROM meta WHERE k = ?', k).one().v);
      const record = meta('record') as ContentRecord;
      expect(record.wander).toMatchObject({ periodMs: YEAR * 1000 });
      const chunks = state.storage.sql.exec<{ hash: string }>('SELECT hash FROM chunks').toArray();
      const w = { ...record.wander!, now: after };
      const dir = await loadDirectory(env as never, after);
      for (const c of chunks) {
        const holders = state.storage.sql.exec<{ node_id: string }>("SELECT node_id FROM replicas WHERE hash = ? AND state = 'stored'", c.hash).toArray().map((r) => r.node_id);
        expect(holders).toEqual(planChunk({ key: c.hash, replicas: 1, minGrade: 0, holders: [], nodes: dir, wander: w }).target);
      }
      const due = meta('reconcile').due as number;
      const first = Math.min(...chunks.map((c) => wanderEpochEnd(c.hash, w)));
      expect(due).toBeGreaterThanOrEqual(after + YEAR * 1000 / 8 - 5_000);
      expect(due).toBeLessThanOrEqual(Math.max(first, after + YEAR * 1000 / 8) + 1_000);
    });
    const events = await env.DB.prepare("SELECT COUNT(*) AS n FROM events WHERE content_id = ? AND kind = 'replica-copied'").bind(id).first<{ n: number }>();
    expect(events!.n).toBe(0);
  });
});
