import { randomBytes } from 'node:crypto';
import { Table, type TableOptions, type TableStats } from './table.js';
import type { Row, TableSchema } from '../schema.js';

/** Default byte budget of a table (64 MiB); whoever creates a table may give it its own. */
export const DEFAULT_TABLE_BUDGET = 64 * 1024 * 1024;

/**
 * The engine's tables by name. It satisfies the planner's `Catalog` (schemas only) and the
 * executor's `TableSource` (scans) structurally, so neither imports the store's internals.
 */
export class Store {
  private readonly byName = new Map<string, Table>();
  /** Names this store among every store ever started: row sequence numbers mean something only within one. */
  readonly epoch = randomBytes(6).toString('hex');

  /** Creates a table; a second table of the same name is an error. */
  create(schema: TableSchema, options?: Partial<TableOptions>): Table {
    if (this.byName.has(schema.name)) throw new Error(`table ${schema.name} already exists`);
    const t = new Table(schema, { ...options, budgetBytes: options?.budgetBytes ?? DEFAULT_TABLE_BUDGET });
    this.byName.set(schema.name, t);
    return t;
  }

  /** Appends rows to a table by name. */
  append(name: string, rows: readonly Row[]): void {
    const t = this.byName.get(name);
    if (!t) throw new Error(`no table ${name}`);
    t.append(rows);
  }

  /** The table itself, for scans. */
  get(name: string): Table | undefined {
    return this.byName.get(name);
  }

  /** Catalog: a table's schema. */
  table(name: string): TableSchema | undefined {
    return this.byName.get(name)?.schema;
  }

  /** Catalog: every schema. */
  tables(): readonly TableSchema[] {
    return [...this.byName.values()].map((t) => t.schema);
  }

  /** Counters of every table, by name. */
  stats(): Record<string, TableStats> {
    const out: Record<string, TableStats> = {};
    for (const [name, t] of this.byName) out[name] = t.stats();
    return out;
  }
}
