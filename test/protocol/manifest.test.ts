import { describe, expect, it } from 'vitest';
import { Manifest } from '../../protocol/manifest.ts';
import { createContent } from './fixtures.ts';

const fx = await createContent();
const base = fx.manifest;
type Raw = Record<string, unknown> & typeof base;
const clone = (): Raw => structuredClone(base) as Raw;

function fails(m: unknown, message?: RegExp) {
  const r = Manifest.safeParse(m);
  expect(r.success).toBe(false);
  if (message && !r.success) expect(r.error.issues.map((i) => i.message).join('\n')).toMatch(message);
}

describe('manifest schema', () => {
  it('accepts a valid manifest unchanged', () => {
    expect(Manifest.parse(clone())).toEqual(base);
    expect(base.chunks.length).toBeGreaterThan(2);
  });

  it('accepts empty content', () => {
    expect(Manifest.safeParse({ ...clone(), size: 0, chunks: [] }).success).toBe(true);
  });

  it('rejects chunks out of order', () => {
    const m = clone();
    [m.chunks[0], m.chunks[1]] = [m.chunks[1], m.chunks[0]];
    fails(m, /out of order/);
    const gap = clone();
    gap.chunks[1].offset += 1;
    fails(gap, /out of order/);
    const idx = clone();
    idx.chunks[2].index = 5;
    fails(idx, /out of order/);
  });

  it('rejects chunk lengths that do not add up to the size', () => {
    fails({ ...clone(), size: base.size + 1 }, /add up/);
    const m = clone();
    m.chunks.pop();
    fails(m, /add up/);
  });

  it('rejects a sealed length that does not match the chunk length', () => {
    const m = clone();
    m.chunks[0].sealedLength += 1;
    fails(m, /sealed length/);
  });

  it('rejects unknown and repeated node ids', () => {
    const m = clone();
    m.chunks[1].nodes = ['n1', 'zz'];
    fails(m, /unknown node zz/);
    const dup = clone();
    dup.chunks[0].nodes = ['n1', 'n1'];
    fails(dup, /twice/);
    const dir = clone();
    dir.nodes.push({ ...dir.nodes[0], url: 'http://elsewhere.test' });
    fails(dir, /twice/);
    const noNodes = clone();
    noNodes.chunks[0].nodes = [];
    fails(noNodes);
  });

  it('rejects bad hashes, ids and secrets', () => {
    const bad: Array<(m: Raw) => void> = [
      (m) => { m.chunks[0].hash = m.chunks[0].hash.toUpperCase(); },
      (m) => { m.chunks[0].hash = m.chunks[0].hash.slice(1); },
      (m) => { m.chunks[0].hash = 'g'.repeat(64); },
      (m) => { m.id = 'x'; },
      (m) => { m.key.secret = m.key.secret.slice(1); },
      (m) => { m.key.secret = `${m.key.secret.slice(1)}+`; },
      (m) => { m.nodes[0].id = 'Bad Id'; },
      (m) => { (m as Record<string, unknown>).format = 2; },
      (m) => { m.chunks[0].length = 0; },
      (m) => { m.version = 0; },
      (m) => { m.nodes[0].url = 'not a url'; },
      (m) => { m.nodes[0].url = 'javascript:alert(1)'; },
      (m) => { m.nodes[0].url = 'file:///etc/passwd'; },
    ];
    for (const change of bad) {
      const m = clone();
      change(m);
      fails(m);
    }
  });

  it('rejects oversized fields', () => {
    const big: Array<(m: Raw) => void> = [
      (m) => { m.name = 'x'.repeat(256); },
      (m) => { m.type = 'x'.repeat(256); },
      (m) => { m.tokens.get = 'x'.repeat(8193); },
      (m) => { m.stamps.upload = 'x'.repeat(8193); },
      (m) => { m.stamps.commit = 'x'.repeat(8193); },
      (m) => { m.nodes[0].url = `http://a.test/${'x'.repeat(512)}`; },
      (m) => { m.nodes[0].region = 'x'.repeat(65); },
      (m) => { m.nodes[0].grade = 10; },
      (m) => { m.chunks[0].nodes = Array.from({ length: 33 }, (_, i) => `n${i}`); },
    ];
    for (const change of big) {
      const m = clone();
      change(m);
      fails(m);
    }
  });

  it('rejects a manifest missing a field', () => {
    for (const k of ['stamps', 'tokens', 'key', 'chunks', 'nodes', 'chunking']) {
      const m = clone();
      delete (m as Record<string, unknown>)[k];
      fails(m);
    }
  });
});
