// The slice of WebCrypto the protocol needs. Passed in, never read from globals, so the same
// code runs in workerd, Node, a service worker and under a test's deterministic source.
export interface CryptoLike {
  readonly subtle: SubtleCrypto;
  getRandomValues<T extends ArrayBufferView>(array: T): T;
}

export function randomBytes(crypto: CryptoLike, n: number): Uint8Array {
  const out = new Uint8Array(n);
  // getRandomValues refuses more than 64 KiB per call.
  for (let o = 0; o < n; o += 65536) crypto.getRandomValues(out.subarray(o, Math.min(n, o + 65536)));
  return out;
}
