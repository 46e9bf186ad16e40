import { applyD1Migrations, env } from 'cloudflare:test';

// Every test file starts from a registry with the numbered migrations applied, as deployed.
await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);
