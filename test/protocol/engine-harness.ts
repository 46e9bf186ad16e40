// The engine under test: fake nodes on a virtual clock, the engine's every event with the
// virtual time it happened at, and time driven only while nothing real is pending.
import { expect } from 'vitest';
import { BunsanError } from '../../protocol/errors.ts';
import { downloadContent, type EngineEvent, type EngineOptions } from '../../protocol/engine/index.ts';
import {
  CHUNK, FakeNetwork, VirtualClock, createContent, cryptoLike, makeSigner,
  type ContentFixture, type ContentOptions, type FakeNetworkOptions,
} from './fixtures.ts';

export const signer = await makeSigner();

export function engine(fx: ContentFixture, net: FakeNetwork, extra: Partial<EngineOptions> = {}) {
  const clock = net.opts.clock ?? new VirtualClock();
  const events: EngineEvent[] = [];
  /** virtual time at each event, same order as events */
  const times: number[] = [];
  const opts: EngineOptions = {
    manifest: fx.manifest, publicKey: fx.signer.publicKey, crypto: clock.trackCrypto(cryptoLike), fetch: net.fetch,
    now: clock.now, sleep: clock.sleep, random: () => 0.5,
    onEvent: (e) => (events.push(e), times.push(clock.now())), ...extra,
  };
  const stop = clock.drive();
  return { gen: driven(downloadContent(opts), stop), events, times, clock, t0: clock.now() };
}

async function* driven(gen: AsyncGenerator<Uint8Array, void, undefined>, stop: () => void): AsyncGenerator<Uint8Array, void, undefined> {
  try {
    yield* gen;
  } finally {
    stop();
  }
}

/** Content on fake nodes that share one virtual clock; they answer in no virtual time unless told otherwise. */
export async function setup(size = CHUNK * 5 + 1234, net: Omit<FakeNetworkOptions, 'clock'> = {}, content: ContentOptions | string[] = {}) {
  const o = Array.isArray(content) ? { nodes: content } : content;
  const fx = await createContent({ size, signer, ...o });
  const clock = new VirtualClock();
  return { fx, clock, net: new FakeNetwork(fx, { clock, latency: () => 0, ...net }) };
}

/** The node chunk 0 goes to first: with every node unmeasured and no jitter, the first replica listed. */
export const firstPick = (fx: ContentFixture) => fx.manifest.chunks[0].nodes[0];

/** A replica of `index`'s chunk that is not `other`. */
export const otherReplica = (fx: ContentFixture, index: number, other: string) => fx.manifest.chunks[index].nodes.find((n) => n !== other)!;

export const of = <T extends EngineEvent['type']>(events: EngineEvent[], type: T) =>
  events.filter((e): e is Extract<EngineEvent, { type: T }> => e.type === type);

export async function expectError(p: Promise<unknown>): Promise<BunsanError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(BunsanError);
    return e as BunsanError;
  }
  throw new Error('expected a rejection');
}
