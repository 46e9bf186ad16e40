// Entry point of a distribution node Worker (one deployment per region, see wrangler.toml).
import { createNodeApp } from './app.ts';

export default createNodeApp();
