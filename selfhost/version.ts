// The version a node reports: the package's own.
import { readFileSync } from 'node:fs';

export const NODE_VERSION: string = (() => {
  try {
    return `bunsan/${(JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version}`;
  } catch {
    return 'bunsan/unknown';
  }
})();
