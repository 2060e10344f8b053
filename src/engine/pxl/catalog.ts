import type { TableSchema } from '../schema.js';

/**
 * What the planner knows about tables: their schemas, never the store's internals.
 */
export interface Catalog {
  table(name: string): TableSchema | undefined;
  tables(): readonly TableSchema[];
}
