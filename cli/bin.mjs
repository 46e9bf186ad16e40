#!/usr/bin/env node
// The `bunsan` command. TypeScript sources run through tsx's loader, so the CLI needs no build.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('./main.ts');
process.exitCode = await main(process.argv.slice(2));
