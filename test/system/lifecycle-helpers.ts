// What the lifecycle system tests ask the stack, as an operator would through the CLI, and a
// wait for a condition (never for a time) with a readable account of where things stood.
import type { ContentInfo, NodeStatus } from '../../protocol/api.ts';
import { cli, type TestStack } from './local-stack.ts';

export const statuses = async (stack: TestStack) => (await cli(stack, ['nodes', '--json'])).json<{ nodes: NodeStatus[] }>().nodes;

/** Per chunk of a content, the nodes holding a verified copy. */
export const holders = async (stack: TestStack, id: string) =>
  (await cli(stack, ['info', id, '--json'])).json<ContentInfo>().chunks.map((c) => c.replicas.filter((r) => r.state === 'stored').map((r) => r.node).sort());

const describe = (v: unknown) => Array.isArray(v) && (v as { id?: string; stateReason?: string }[])[0]?.stateReason !== undefined
  ? (v as NodeStatus[]).map((n) => `${n.id} ${n.state} (${n.stateReason}) chunks ${n.chunksHeld} backlog ${JSON.stringify(n.backlog)}`).join('; ')
  : JSON.stringify(v)?.slice(0, 400);

/** Polls `fn` until `ok` holds; fails with the last value after `seconds`. */
export async function until<T>(what: string, fn: () => Promise<T>, ok: (v: T) => boolean, seconds = 150): Promise<T> {
  const end = Date.now() + seconds * 1000;
  let last: T | undefined;
  while (Date.now() < end) {
    last = await fn();
    if (ok(last)) return last;
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`${what}: not reached in ${seconds} s (last: ${describe(last)})`);
}
