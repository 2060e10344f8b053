import type { StoredColumn } from '../../../store/column.js';
import type { ColumnBatch } from '../../../store/table.js';
import type { DataType, Field, TableSchema } from '../../../schema.js';
import type { AggState } from '../../functions/aggregates/state.js';
import { createAgg, decodePartial } from '../../functions/registry.js';
import { GroupKeyer } from '../../exec/keys/chunk.js';
import type { ScannableTable, TableSource } from '../../exec/runtime.js';
import { emptyVec, type Vec } from '../../exec/vec.js';
import type { LogicalPlan } from '../../plan/logical.js';
import { decodeCells } from '../wire/cells.js';
import { LookupMetadata } from './metadata.js';
import { fragmentTable, type DistributedProgram, type Fragment } from './split.js';
import type { PartialLine } from '../wire/messages.js';

/**
 * The broker's half of a distributed query: folds engine answers in line by line as they
 * arrive — partial states into one grouped state per fragment, rows into a bounded list — and
 * then serves the merged fragments as the virtual tables the upper plan reads.
 */

interface Accumulator {
  accept(line: Extract<PartialLine, { t: 'rows' | 'groups' }>): void;
  batch(): ColumnBatch | null;
}

/** An executor column as a stored column of a virtual table (TIME64NS offsets keep `base`). */
function toStored(v: Vec, type: DataType, base: bigint): StoredColumn {
  switch (v.t) {
    case 'str':
      return { kind: 'dict', codes: v.c, dict: v.dict };
    case 'bool':
      return { kind: 'bool', data: v.d };
    case 'big':
      return { kind: 'big', data: v.d };
    case 'num': {
      const data = v.d instanceof Float64Array ? v.d : Float64Array.from(v.d);
      return type === 'TIME64NS' ? { kind: 'time', base, data } : { kind: 'f64', data };
    }
  }
}

function batchOf(schema: readonly Field[], cols: readonly Vec[], n: number, base: bigint): ColumnBatch {
  const columns = new Map(schema.map((f, j) => [f.name, toStored(cols[j]!, f.type, base)]));
  return { rows: n, minTime: 0n, maxTime: 0n, columns, bytes: 0 };
}

function shapeError(fragment: string, what: string): Error {
  return new Error(`malformed answer for fragment ${fragment}: ${what}`);
}

/** Key column types and aggregate argument types of a partial aggregate: what its lines carry. */
export function aggShape(plan: Extract<LogicalPlan, { kind: 'agg' }>): { keyTypes: DataType[]; argTypes: DataType[] } {
  return {
    keyTypes: plan.groups.map((g) => plan.input.schema.find((c) => c.name === g)!.type),
    argTypes: plan.aggs.map((a) => a.args[0]?.type ?? 'INT64'),
  };
}

/** Merges partial aggregate states by group key. */
class PartialAccumulator implements Accumulator {
  private readonly keyer: GroupKeyer;
  private readonly keyTypes: DataType[];
  private readonly argTypes: DataType[];
  private readonly states: AggState<unknown>[];

  constructor(
    private readonly f: Fragment,
    private readonly plan: Extract<LogicalPlan, { kind: 'agg' }>,
    private readonly base: bigint,
  ) {
    ({ keyTypes: this.keyTypes, argTypes: this.argTypes } = aggShape(plan));
    this.keyer = new GroupKeyer(this.keyTypes);
    this.states = plan.aggs.map((a, i) => createAgg(a.fn, this.argTypes[i]!, a.type));
  }

  accept(line: Extract<PartialLine, { t: 'rows' | 'groups' }>): void {
    if (line.t !== 'groups') throw shapeError(this.f.id, 'expected groups, got rows');
    const n = line.n;
    if (!Array.isArray(line.keys) || line.keys.length !== this.keyTypes.length || line.keys.some((k) => !Array.isArray(k) || k.length !== n)) {
      throw shapeError(this.f.id, `expected ${this.keyTypes.length} key columns of ${n} values`);
    }
    if (!Array.isArray(line.partials) || line.partials.length !== this.states.length || line.partials.some((p) => !Array.isArray(p) || p.length !== n)) {
      throw shapeError(this.f.id, `expected ${this.states.length} partial columns of ${n} values`);
    }
    const keys = line.keys.map((cells, j) => decodeCells(cells, this.keyTypes[j]!, this.base));
    const gids = this.keyer.assign({ n, sel: null, cols: keys }, keys);
    for (let a = 0; a < this.states.length; a++) {
      const s = this.states[a]!;
      const fn = this.plan.aggs[a]!.fn;
      const col = line.partials[a]!;
      s.grow(this.keyer.size);
      for (let k = 0; k < n; k++) s.merge(gids[k]!, decodePartial(fn, this.argTypes[a]!, col[k], this.base));
    }
  }

  batch(): ColumnBatch | null {
    const n = this.keyer.size;
    if (n === 0) return null;
    const byName = new Map<string, Vec>();
    const keys = this.keyer.keyColumns();
    this.plan.groups.forEach((g, j) => byName.set(g, keys[j]!));
    this.plan.aggs.forEach((a, j) => byName.set(a.name, this.states[j]!.finalize(n)));
    const schema = this.plan.schema;
    return batchOf(
      schema,
      schema.map((c) => byName.get(c.name) ?? emptyVec(c.type)),
      n,
      this.base,
    );
  }
}

/** Collects leaf rows, up to a bound in rows and one in bytes (of the engines' cells). */
class RowsAccumulator implements Accumulator {
  private readonly batches: ColumnBatch[] = [];
  rows = 0;
  bytes = 0;
  truncated = false;

  constructor(
    private readonly f: Fragment,
    private readonly maxRows: number,
    private readonly maxBytes: number,
    private readonly base: bigint,
  ) {}

  accept(line: Extract<PartialLine, { t: 'rows' | 'groups' }>): void {
    if (line.t !== 'rows') throw shapeError(this.f.id, 'expected rows, got groups');
    const schema = this.f.schema;
    if (!Array.isArray(line.data) || line.data.length !== schema.length || line.data.some((c) => !Array.isArray(c) || c.length !== line.n)) {
      throw shapeError(this.f.id, `expected ${schema.length} columns of ${line.n} values`);
    }
    let m = Math.min(Math.max(0, this.maxRows - this.rows), line.n);
    // Rows whose cells fit what is left of the byte bound (strings by length, the rest 8 bytes).
    let bytes = 0;
    for (let k = 0; k < m; k++) {
      let row = 0;
      for (const col of line.data) row += typeof col[k] === 'string' ? (col[k] as string).length + 2 : 8;
      if (this.bytes + bytes + row > this.maxBytes) {
        m = k;
        break;
      }
      bytes += row;
    }
    if (m < line.n) this.truncated = true;
    if (m === 0) return;
    const cols = schema.map((c, j) => decodeCells(m < line.n ? line.data[j]!.slice(0, m) : line.data[j]!, c.type, this.base));
    this.batches.push(batchOf(schema, cols, m, this.base));
    this.rows += m;
    this.bytes += bytes;
  }

  batch(): ColumnBatch | null {
    return null;
  }

  all(): readonly ColumnBatch[] {
    return this.batches;
  }
}

/** Merged fragment outputs of one query, and the metadata answers that came with them. */
export class Merger {
  private readonly acc = new Map<string, PartialAccumulator | RowsAccumulator>();
  /** Metadata answers from every engine, for the upper plan's lookups. */
  readonly metadata = new LookupMetadata();

  /**
   * `base` is the TIME64NS origin of the broker's columns (the query's start: offsets within
   * ±104 days of it are exact); `maxRows` and `maxBytes` bound the rows kept per rows-fragment.
   */
  constructor(
    private readonly dist: DistributedProgram,
    private readonly base: bigint,
    maxRows: number,
    maxBytes: number,
  ) {
    for (const f of dist.fragments) {
      this.acc.set(f.id, f.plan.kind === 'agg' ? new PartialAccumulator(f, f.plan, base) : new RowsAccumulator(f, maxRows, maxBytes, base));
    }
  }

  /** Folds in one line of an engine's answer; throws on lines that do not fit the fragment. */
  accept(line: PartialLine): void {
    if (line.t === 'lookup') {
      if (typeof line.values === 'object' && line.values !== null) this.metadata.add(String(line.fn), line.values);
      return;
    }
    if (line.t !== 'rows' && line.t !== 'groups') return;
    const a = this.acc.get(String(line.fragment));
    if (!a) throw new Error(`answer for unknown fragment '${String(line.fragment)}'`);
    if (!Number.isInteger(line.n) || line.n < 0) throw shapeError(String(line.fragment), 'bad row count');
    a.accept(line);
  }

  /** Fragments whose rows were cut at the bound. */
  truncatedFragments(): string[] {
    return [...this.acc.entries()].filter(([, a]) => a instanceof RowsAccumulator && a.truncated).map(([id]) => id);
  }

  /** The merged fragments as tables the executor can scan. */
  source(): TableSource {
    const tables = new Map<string, ScannableTable>();
    for (const f of this.dist.fragments) {
      const a = this.acc.get(f.id)!;
      const batches = a instanceof RowsAccumulator ? a.all() : [a.batch()].filter((b): b is ColumnBatch => b !== null);
      const schema: TableSchema = { name: fragmentTable(f.id), fields: f.schema };
      const base = this.base;
      tables.set(schema.name, { schema, scan: () => batches, timeBaseNs: () => base });
    }
    return { get: (name) => tables.get(name) };
  }
}
