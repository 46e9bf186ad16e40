// What a node tallies of the bytes it hands to viewers (demand, edge/node/tally.ts): counted
// per content, taken in one call with a management token, and started afresh by each take.
// Copies between nodes (tokens narrowed to one chunk) are not viewers' demand.
import { describe, expect, it } from 'vitest';
import { auth, call, errorCode, getTokenFor, makeChunk, mgmtToken, sign, soon, stored } from './helpers.ts';

interface Reading { node: string; since: number; total: number; from: number; at: number; contents: Record<string, number>; other: number }
const take = async () => (await (await call('/v1/served', { method: 'POST', headers: auth(await mgmtToken()) })).json()) as Reading;

describe('POST /v1/served', () => {
  it('counts whole and ranged reads per content, and each take starts a new interval', async () => {
    const a = await stored(await makeChunk(1000));
    const b = await stored(await makeChunk(3000));
    const first = await take();
    const ga = await getTokenFor(a.content);
    await (await call(`/v1/chunks/${a.hash}`, { headers: auth(ga) })).arrayBuffer();
    await (await call(`/v1/chunks/${a.hash}`, { headers: { ...auth(ga), range: 'bytes=0-99' } })).arrayBuffer();
    await (await call(`/v1/chunks/${b.hash}`, { headers: auth(await getTokenFor(b.content)) })).arrayBuffer();
    // A copy's read (a token narrowed to one chunk) and a HEAD are not viewers' bytes.
    const narrowed = await sign({ t: 'get', c: a.content, h: a.hash, exp: soon() });
    await (await call(`/v1/chunks/${a.hash}`, { headers: auth(narrowed) })).arrayBuffer();
    await call(`/v1/chunks/${a.hash}`, { method: 'HEAD', headers: auth(ga) });
    const r = await take();
    expect(r.contents[a.content]).toBe(1100);
    expect(r.contents[b.content]).toBe(3000);
    expect(r.total - first.total).toBe(4100);
    expect(r.from).toBe(first.at);
    expect(r.at).toBeGreaterThanOrEqual(r.from);
    const again = await take();
    expect(again.contents[a.content]).toBeUndefined();
    expect(again.total).toBe(r.total);
  });

  it("needs this node's management token, and POST", async () => {
    const none = await call('/v1/served', { method: 'POST' });
    expect([none.status, await errorCode(none)]).toEqual([401, 'unauthorized']);
    const viewer = await call('/v1/served', { method: 'POST', headers: auth(await getTokenFor((await makeChunk()).content)) });
    expect(viewer.status).toBeGreaterThanOrEqual(400);
    const other = await call('/v1/served', { method: 'POST', headers: auth(await sign({ t: 'mgmt', n: 'n9', exp: soon() })) });
    expect([other.status, await errorCode(other)]).toEqual([403, 'wrong_audience']);
    const get = await call('/v1/served');
    expect(get.status).toBe(405);
  });
});
