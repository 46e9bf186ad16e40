// `bunsan node drain`: the node asks its portal, with a message signed by its own key, to stop
// sending it copies and move what it holds elsewhere.
import { resolve } from 'node:path';
import { loadNode } from './identity.ts';
import { nodeSigner } from './portal-client.ts';

export async function drainNode(dir: string): Promise<{ id: string; state: string; portal: string }> {
  const { identity, config } = loadNode(resolve(dir));
  const r = await nodeSigner(identity).drain(config.portal, config.id);
  return { ...r, portal: config.portal };
}
