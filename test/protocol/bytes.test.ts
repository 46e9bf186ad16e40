import { describe, expect, it } from 'vitest';
import {
  concatBytes, exact, fromBase64Url, fromHex, fromUtf8, timingSafeEqual, toBase64Url, toHex, utf8,
} from '../../protocol/bytes.ts';
import { sha256Hex } from '../../protocol/hash.ts';
import { cryptoLike, pattern } from './fixtures.ts';

describe('byte encodings', () => {
  it('round-trips hex and base64url at every length mod 4, and beyond the 32 KiB batch', () => {
    for (const n of [0, 1, 2, 3, 4, 5, 31, 32, 33, 0x8000, 0x8000 + 1, 100_000]) {
      const b = pattern(n, n + 1);
      expect(fromHex(toHex(b))).toEqual(b);
      const s = toBase64Url(b);
      expect(s).toMatch(/^[A-Za-z0-9_-]*$/);
      expect(fromBase64Url(s)).toEqual(b);
      expect(Buffer.from(b).toString('base64url')).toBe(s);
    }
  });

  it('refuses what is not hex or base64url', () => {
    for (const h of ['0', 'zz', '0g', ' 00']) expect(() => fromHex(h)).toThrow();
    for (const s of ['a+b', 'a/b', 'ab==', 'a b']) expect(() => fromBase64Url(s)).toThrow();
  });

  it('encodes UTF-8 and concatenates', () => {
    expect(fromUtf8(utf8('分散 ✓'))).toBe('分散 ✓');
    expect(concatBytes([utf8('ab'), new Uint8Array(0), utf8('c')])).toEqual(utf8('abc'));
  });

  it('compares in constant time, length first', () => {
    expect(timingSafeEqual(utf8('abc'), utf8('abc'))).toBe(true);
    expect(timingSafeEqual(utf8('abc'), utf8('abd'))).toBe(false);
    expect(timingSafeEqual(utf8('abc'), utf8('ab'))).toBe(false);
  });

  it('exact() passes views of ordinary memory through uncopied and copies shared memory', async () => {
    const whole = pattern(10);
    expect(exact(whole)).toBe(whole);
    const view = whole.subarray(2, 5);
    expect(exact(view)).toBe(view);
    // WebCrypto reads the view's bytes only, not the rest of its buffer
    expect(await sha256Hex(cryptoLike, view)).toBe(await sha256Hex(cryptoLike, view.slice()));
    const shared = new Uint8Array(new SharedArrayBuffer(10));
    shared.set(whole);
    const copy = exact(shared.subarray(2, 5));
    expect(copy.buffer).toBeInstanceOf(ArrayBuffer);
    expect(copy).toEqual(view);
  });

  it('hashes with SHA-256', async () => {
    expect(await sha256Hex(cryptoLike, utf8('abc'))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
});
