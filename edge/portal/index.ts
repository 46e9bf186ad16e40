import { Hono } from 'hono';
import type { PortalEnv } from '../env.ts';
import { notFound, onError } from '../http.ts';

export { ContentManager } from '../manager/content-manager.ts';

const app = new Hono<{ Bindings: PortalEnv }>();
app.onError(onError);
app.notFound(notFound);
export default app;
