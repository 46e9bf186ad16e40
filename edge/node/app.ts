// Routes of a distribution node (DESIGN.md, "The node protocol"), one application for every
// platform: the Worker over R2 (index.ts) and the self-hosted node over a directory (selfhost/)
// differ only in the NodeDeps they hand in. Every response carries CORS headers; every failure
// is the JSON error envelope; a known path with the wrong method is 405.
import { Hono, type Context } from 'hono';
import { BunsanError } from '../../protocol/errors.ts';
import { NODE_PATHS } from '../../protocol/node-protocol.ts';
import { notFound, onError } from '../http.ts';
import { checkChunks, deleteChunks, inventory } from './batch.ts';
import { deleteChunk, getChunk, putChunk } from './chunks.ts';
import { copyChunk } from './copy.ts';
import { cors } from './cors.ts';
import type { NodeDeps, NodeHono } from './deps.ts';
import { health, probe } from './probe.ts';
import { takeServed } from './tally.ts';

const wrongMethod = (c: Context) => {
  throw new BunsanError('method_not_allowed', `${c.req.method} is not allowed on ${new URL(c.req.url).pathname}`);
};

/** `deps` turns the platform's bindings (a Worker's env; nothing for a Node server) into the node's. */
export function createNodeApp<B extends object = object>(deps: (bindings: B) => NodeDeps): Hono<NodeHono & { Bindings: B }> {
  const app = new Hono<NodeHono & { Bindings: B }>();
  app.onError(onError);
  app.notFound(notFound);
  app.use('*', async (c, next) => {
    c.set('node', deps(c.env));
    await next();
  });
  app.use('*', cors);

  // The fixed batch paths come before /v1/chunks/:hash, which would otherwise claim them.
  app.post(NODE_PATHS.check, checkChunks);
  app.all(NODE_PATHS.check, wrongMethod);
  app.post(NODE_PATHS.deleteBatch, deleteChunks);
  app.all(NODE_PATHS.deleteBatch, wrongMethod);

  // Hono answers HEAD with the GET route and drops the body; getChunk skips reading the store for it.
  app.get('/v1/chunks/:hash', getChunk);
  app.put('/v1/chunks/:hash', putChunk);
  app.delete('/v1/chunks/:hash', deleteChunk);
  app.all('/v1/chunks/:hash', wrongMethod);
  app.post('/v1/chunks/:hash/copy', copyChunk);
  app.all('/v1/chunks/:hash/copy', wrongMethod);

  app.get(NODE_PATHS.probe, probe);
  app.all(NODE_PATHS.probe, wrongMethod);
  app.get(NODE_PATHS.health, health);
  app.all(NODE_PATHS.health, wrongMethod);
  app.get(NODE_PATHS.inventory, inventory);
  app.all(NODE_PATHS.inventory, wrongMethod);
  app.post(NODE_PATHS.served, takeServed);
  app.all(NODE_PATHS.served, wrongMethod);
  return app;
}
