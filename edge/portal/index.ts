// The portal Worker: the one public address (upload, download, management portals) and the
// home of the per-content managers.
import { Hono } from 'hono';
import type { PortalEnv } from '../env.ts';
import { notFound, onError } from '../http.ts';
import type { PortalVars } from './auth.ts';
import { drainBody } from './drain-body.ts';
import { rateLimit } from './rate-limit.ts';
import { admin } from './routes-admin.ts';
import { nodes } from './routes-nodes.ts';
import { contents } from './routes-contents.ts';
import { managerMoves } from './routes-manager.ts';
import { reports } from './routes-reports.ts';
import { selfHosted } from './routes-self-hosted.ts';
import { uploads } from './routes-uploads.ts';
import { securityHeaders } from './security-headers.ts';
import { runSweep } from '../lifecycle/sweep.ts';

export { ContentManager } from '../manager/content-manager.ts';
export { NodeGate } from '../lifecycle/node-gate.ts';
export { Sweeper } from '../lifecycle/sweeper.ts';

const app = new Hono<{ Bindings: PortalEnv; Variables: PortalVars }>();
app.onError(onError);
app.notFound(notFound);
app.use('*', securityHeaders);
app.use('/api/*', drainBody);
app.use('/api/*', rateLimit);
app.route('/api/v1/uploads', uploads);
app.route('/api/v1/contents', reports);
app.route('/api/v1/contents', contents);
app.route('/api/v1/contents', managerMoves);
app.route('/api/v1', admin);
app.route('/api/v1', nodes);
app.route('/api/v1', selfHosted);
app.get('/', (c) => c.text('bunsan portal: see /api/v1/contents\n'));

// The cron trigger (wrangler.toml [triggers]; locally a timer): one sweep of node health and
// the lifecycle work that follows.
export default Object.assign(app, {
  scheduled(_event: ScheduledController, env: PortalEnv, ctx: ExecutionContext) {
    ctx.waitUntil(runSweep(env).then(() => undefined));
  },
});
