// The Sweeper walks the sweep's tasks in slices from its own alarm, so that handing work to a
// million managers is a loop of short alarm runs rather than one long cron invocation: each run
// takes the oldest open task a few slices further, and sets the alarm again while work is left.
//   all / node  a slice of content ids (every content, or those with a copy on the node): each
//               manager is asked to reconcile, and the registry notes that it was asked
//   inventory   a page of the node's inventory (inventory.ts)
import { DurableObject } from 'cloudflare:workers';
import type { PortalEnv } from '../env.ts';
import { contentIdsAfter, managersOf, markAsked } from '../registry/contents.ts';
import { contentsOnNode } from '../registry/placements.ts';
import { advanceTask, openTasks, type TaskRow } from '../registry/tasks.ts';
import { mapLimit } from '../node/store.ts';
import { stubByName } from '../manager/home.ts';
import { inventoryStep } from './inventory.ts';

/** Contents per slice, and managers asked at once. */
const SLICE = 100;
const PARALLEL = 16;
/** One alarm run works for about this long, then hands over to the next. */
const RUN_MS = 5_000;

async function pokeAll(env: PortalEnv, ids: string[], reason: string): Promise<void> {
  const verify = reason === 'verify';
  // One registry read for the slice: which object is in charge of each (a moved manager is not named by the id).
  const managers = await managersOf(env.DB, ids);
  await mapLimit(ids, PARALLEL, (id) =>
    stubByName(env, managers.get(id) ?? id).reconcile(reason, verify).catch((err: Error) => console.warn(`manager of ${id} not reached: ${err.message}`)));
}

/** One slice of one task. */
export async function taskStep(env: PortalEnv, t: TaskRow, now: number): Promise<void> {
  if (t.kind === 'inventory') return inventoryStep(env, t, now);
  const ids = t.kind === 'all' ? await contentIdsAfter(env.DB, t.cursor, SLICE) : await contentsOnNode(env.DB, t.node_id!, t.cursor, SLICE);
  if (ids.length > 0) {
    await markAsked(env.DB, ids, now).run();
    await pokeAll(env, ids, t.reason);
  }
  await advanceTask(env.DB, t, ids.at(-1) ?? t.cursor, ids.length < SLICE, now).run();
}

export class Sweeper extends DurableObject<PortalEnv> {
  /** Starts walking now, unless a walk is already under way. */
  async kick(): Promise<void> {
    if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(Date.now());
  }

  async alarm(): Promise<void> {
    const started = Date.now();
    try {
      for (;;) {
        const tasks = await openTasks(this.env.DB);
        if (tasks.length === 0) return;
        // Round robin over the open tasks, so a long walk does not hold a node's repair back.
        for (const t of tasks) await taskStep(this.env, t, Date.now());
        if (Date.now() - started > RUN_MS) break;
      }
    } catch (err) {
      // The registry or a node failed us mid-slice: the task keeps its cursor; try again shortly.
      console.warn(`sweep stopped: ${(err as Error).message}`);
      await this.ctx.storage.setAlarm(Date.now() + 5_000);
      return;
    }
    await this.ctx.storage.setAlarm(Date.now() + 100);
  }
}

export const sweeperOf = (env: PortalEnv) => env.SWEEPER.get(env.SWEEPER.idFromName('sweeper'));
