import { readFileSync } from 'node:fs';

/** The engine's version, from package.json (one source of truth for the API and the plugin). */
export const VERSION: string = (
  JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;
