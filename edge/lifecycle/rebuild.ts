// Rebuilding the registry after rows were lost: every node's inventory is read (a task per
// node), and the manager of every content seen there writes its catalog row and placement index
// again from its own state. The managers are the truth; the nodes say which managers to ask.
import type { PortalEnv } from '../env.ts';
import { logEvent } from '../registry/events.ts';
import { listNodes, setInventoryCursor } from '../registry/nodes.ts';
import { openTask } from '../registry/tasks.ts';
import { sweeperOf } from './sweeper.ts';

export async function rebuildRegistry(env: PortalEnv, now: number): Promise<{ nodes: string[] }> {
  const nodes = (await listNodes(env.DB)).filter((n) => n.state !== 'retired' && n.state !== 'down');
  for (const n of nodes) {
    await setInventoryCursor(env.DB, n.id, null, null).run();
    await openTask(env.DB, { kind: 'inventory', node: n.id, reason: 'rebuild', at: now });
  }
  await logEvent(env.DB, { at: now, kind: 'registry-rebuild', detail: { nodes: nodes.map((n) => n.id) } }).run();
  await sweeperOf(env).kick();
  return { nodes: nodes.map((n) => n.id) };
}
