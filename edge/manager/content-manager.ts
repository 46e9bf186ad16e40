import { DurableObject } from 'cloudflare:workers';
import type { PortalEnv } from '../env.ts';

export class ContentManager extends DurableObject<PortalEnv> {}
