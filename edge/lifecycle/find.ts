// Finding who holds a chunk (claim 11), two ways side by side: the registry's placement index,
// and asking every node on the list at once ("pseudo-multicast"), each with a deadline.
import type { ChunkHolders } from '../../protocol/api.ts';
import type { PortalEnv } from '../env.ts';
import { listNodes } from '../registry/nodes.ts';
import { holdersOf } from '../registry/placements.ts';
import { clientFor, checkOnNode } from '../node-client.ts';

export async function whoHolds(env: PortalEnv, hash: string, ask: boolean): Promise<ChunkHolders> {
  const registry = (await holdersOf(env.DB, hash)).map((p) => ({ content: p.content_id, node: p.node_id, bytes: p.bytes }));
  if (!ask) return { hash, registry };
  const deps = await clientFor(env);
  const nodes = (await listNodes(env.DB)).filter((n) => n.state !== 'retired');
  const answers = await Promise.all(nodes.map(async (n) => {
    try {
      const [held] = await checkOnNode(deps, n, undefined, [hash]);
      return held ? { node: n.id, held: true, content: held.content, stamp: held.stamp, size: held.size } : { node: n.id, held: false };
    } catch (err) {
      return { node: n.id, held: false, error: (err as Error).message };
    }
  }));
  return { hash, registry, nodes: answers };
}
