import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { HTTP_EVENTS_SCHEMA } from '../../engine/http/schema.js';
import type { Catalog } from '../../engine/pxl/catalog.js';
import type { CompileOptions } from '../../engine/pxl/compile.js';

/**
 * The PxL scripts beside this file, shared by the compiler's, executor's and broker's unit tests
 * and the end-to-end tests.
 * Compiled code lives in out/, the .pxl files stay in the source tree.
 */
const DIR = fileURLToPath(new URL('../../../../src/testkit/pxl-scripts/', import.meta.url));

/** Script names (file names without .pxl), sorted. */
export function scriptNames(): string[] {
  return readdirSync(DIR)
    .filter((f) => f.endsWith('.pxl'))
    .map((f) => f.slice(0, -4))
    .sort();
}

export function loadScript(name: string): string {
  return readFileSync(`${DIR}${name}.pxl`, 'utf8');
}

/** A catalog holding just http_events, as the engine's store declares it. */
export const httpCatalog: Catalog = {
  table: (name) => (name === HTTP_EVENTS_SCHEMA.name ? HTTP_EVENTS_SCHEMA : undefined),
  tables: () => [HTTP_EVENTS_SCHEMA],
};

/** A fixed 5-minute range ending at a round time, 15 s interval, one dashboard variable. */
export const fixedOptions: CompileOptions = {
  fromNs: 1_700_000_000_000_000_000n,
  toNs: 1_700_000_300_000_000_000n,
  intervalNs: 15_000_000_000n,
  nowNs: 1_700_000_300_000_000_000n,
  maxDataPoints: 1000,
  variables: { service: ['default/frontend', 'default/cart'], ns: 'default' },
};
