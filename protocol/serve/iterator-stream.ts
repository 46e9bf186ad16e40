// A pull-driven byte stream over an async iterator: nothing is fetched ahead of the reader
// (highWaterMark 0), and cancelling the stream aborts the work behind it.
export function iteratorStream(it: AsyncIterator<Uint8Array>, abort: AbortController): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    async pull(ctrl) {
      try {
        const { done, value } = await it.next();
        if (done) ctrl.close();
        else ctrl.enqueue(value);
      } catch (err) {
        ctrl.error(err);
      }
    },
    async cancel(reason) {
      abort.abort(reason);
      await it.return?.(undefined).catch(() => {});
    },
  }, { highWaterMark: 0 });
}
