// Serves a Hono application on Node (@hono/node-server) and stops it gracefully: no new
// connections, the requests under way finish (up to a deadline), idle keep-alive connections close.
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { serve } from '@hono/node-server';
import { BunsanError } from '../protocol/errors.ts';

export interface RunningServer {
  port: number;
  host: string;
  url: string;
  /** in-flight requests right now */
  active(): number;
  close(graceMs?: number): Promise<void>;
}

export function listen(fetchFn: (req: Request) => Response | Promise<Response>, port: number, host: string): Promise<RunningServer> {
  return new Promise((resolve, reject) => {
    let inFlight = 0;
    const server = serve({
      fetch: async (req: Request) => {
        inFlight++;
        try {
          return await fetchFn(req);
        } finally {
          inFlight--;
        }
      },
      port, hostname: host,
    }) as Server;
    // Keep-alive beyond the client's typical pool timeout, so that a hot client reuses connections.
    server.keepAliveTimeout = 65_000;
    // A request Node's HTTP parser refuses (a Content-Length that is not a number, broken chunked
    // framing, a body cut short) never reaches the application: it still gets the protocol's
    // envelope, written on the socket as Node asks, unless an answer has already begun.
    server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
      const answering = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent;
      if (err.code === 'ECONNRESET' || !socket.writable || answering) return socket.destroy();
      const body = JSON.stringify(new BunsanError('bad_request', 'the request is malformed HTTP').toEnvelope());
      socket.end(`HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n`
        + `access-control-allow-origin: *\r\ncache-control: no-store\r\nconnection: close\r\n\r\n${body}`);
    });
    server.once('error', (err: NodeJS.ErrnoException) => {
      reject(err.code === 'EADDRINUSE'
        ? new BunsanError('bad_request', `port ${port} on ${host} is in use`)
        : new BunsanError('bad_request', `cannot listen on ${host}:${port}: ${err.code ?? err.message}`));
    });
    server.once('listening', () => {
      const addr = server.address() as AddressInfo;
      const shown = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
      resolve({
        port: addr.port, host, url: `http://${shown}:${addr.port}`,
        active: () => inFlight,
        close: (graceMs = 5000) => new Promise<void>((done) => {
          const force = setTimeout(() => server.closeAllConnections(), graceMs);
          server.close(() => { clearTimeout(force); done(); });
          server.closeIdleConnections();
        }),
      });
    });
  });
}
