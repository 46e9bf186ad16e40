export * from './events.ts';
export * from './retry-policy.ts';
export * from './node-stats.ts';
export * from './choose-node.ts';
export * from './fetch-chunk.ts';
export * from './scheduler.ts';
export * from './download.ts';
