// A request body the handler never read (a commit's `{}`, any body of a request refused before
// parsing) makes the assets router in front of the portal Worker drop the keep-alive
// connection, and the client's next request on it fails with ECONNRESET (measured: 3-10 of 60
// CLI uploads failed so before, none after). So a small unread body is read to its end before
// the answer goes out; a large one is cancelled, and its connection may go.
import type { MiddlewareHandler } from 'hono';

const DRAIN_LIMIT = 1024 * 1024;

export const drainBody: MiddlewareHandler = async (c, next) => {
  await next();
  const req = c.req.raw;
  if (!req.body || req.bodyUsed) return;
  const declared = Number(req.headers.get('content-length') ?? NaN);
  try {
    if (declared <= DRAIN_LIMIT) {
      const reader = req.body.getReader();
      for (let n = 0; n <= DRAIN_LIMIT;) {
        const { done, value } = await reader.read();
        if (done) return;
        n += value.byteLength;
      }
      await reader.cancel();
    } else {
      await req.body.cancel();
    }
  } catch {
    // The client went away: nothing to keep.
  }
};
