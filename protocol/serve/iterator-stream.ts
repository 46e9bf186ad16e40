// A pull-driven byte stream over an async iterator: nothing is fetched ahead of the reader
// (highWaterMark 0), and cancelling the stream aborts the work behind it.
//
// The abort runs on a later task, never inside cancel(): WebKit calls cancel() from its own
// code when a media element drops a load (its GStreamer source stops and restarts a load with
// a new Range whenever it holds 2 % of a file over 2 MiB), and tearing our transfers down there
// (aborting node fetches whose bodies are being read) leaves WebKit's service worker thread
// hung: no fetch event is dispatched again, and the video stays at readyState 0.
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
    cancel(reason) {
      setTimeout(() => {
        abort.abort(reason);
        it.return?.(undefined).catch(() => {});
      }, 0);
    },
  }, { highWaterMark: 0 });
}
