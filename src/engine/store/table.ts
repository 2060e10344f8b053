import { ColumnBuilder, columnBytes, sliceColumn, type StoredColumn } from './column.js';
import type { ColumnInput, DataType, Row, RowValue, TableSchema } from '../schema.js';

/** An immutable run of rows in columnar form; `minTime`/`maxTime` let range scans skip it. */
export interface ColumnBatch {
  readonly rows: number;
  /** Inclusive bounds on `time_` (0n..0n when the table has no `time_`). */
  readonly minTime: bigint;
  readonly maxTime: bigint;
  readonly columns: ReadonlyMap<string, StoredColumn>;
  readonly bytes: number;
}

/** Counters exposed through /readyz and /metrics. */
export interface TableStats {
  readonly rows: number;
  readonly bytes: number;
  readonly batches: number;
  readonly budgetBytes: number;
  readonly droppedRows: number;
  readonly droppedBatches: number;
  readonly appendedRows: number;
}

/**
 * Rows of a table by sequence number (the n-th row ever appended has seq n-1), for streams: the
 * rows `from <= seq < to` as batches sharing the store's buffers; `firstSeq` is the oldest row
 * still stored, so a reader that asked for less than it lost `firstSeq - asked` rows.
 */
export interface SeqRange {
  readonly firstSeq: number;
  readonly from: number;
  readonly to: number;
  readonly batches: readonly ColumnBatch[];
}

/** Options of one table. */
export interface TableOptions {
  /** Byte budget; when exceeded the oldest batches are dropped. */
  readonly budgetBytes: number;
  /** Rows per sealed batch. */
  readonly batchRows?: number;
}

/** Thrown for rows that do not fit the schema; names the column and the value's problem. */
export class RowError extends Error {
  constructor(table: string, column: string, message: string) {
    super(`${table}.${column}: ${message}`);
    this.name = 'RowError';
  }
}

const DEFAULT_BATCH_ROWS = 65536;
/** The tail is sealed early once it holds this fraction of the budget, so dropping stays fine-grained. */
const TAIL_BUDGET_FRACTION = 8;
const INITIAL_TAIL_ROWS = 1024;

/**
 * One table: sealed batches in time order plus an open tail. Appends go to the tail; scans read
 * the sealed batches and a snapshot of the tail, so a row is queryable as soon as `append`
 * returns. The byte budget counts every typed array and dictionary string of both, and is
 * enforced after each appended row: total bytes never exceed it once `append` returns.
 */
export class Table {
  readonly schema: TableSchema;
  readonly budgetBytes: number;
  private readonly batchRows: number;
  private readonly hasTime: boolean;
  private readonly types: ReadonlyMap<string, DataType>;
  private batches: ColumnBatch[] = [];
  private sealedBytes = 0;
  private sealedRows = 0;
  private tail: ColumnBuilder[] = [];
  private tailRows = 0;
  private tailBytes = 0;
  private tailMin = 0n;
  private tailMax = 0n;
  private timeBase: bigint | null = null;
  private dropped = { rows: 0, batches: 0 };
  private appended = 0;
  private readonly pushRow: (builders: readonly ColumnBuilder[], row: Row) => number;
  private readonly badColumn: (row: Row) => number;

  constructor(schema: TableSchema, options: TableOptions) {
    if (!(options.budgetBytes > 0)) throw new RangeError(`${schema.name}: budgetBytes must be > 0`);
    this.schema = schema;
    this.budgetBytes = options.budgetBytes;
    this.batchRows = options.batchRows ?? DEFAULT_BATCH_ROWS;
    this.types = new Map(schema.fields.map((f) => [f.name, f.type]));
    this.hasTime = this.types.get('time_') === 'TIME64NS';
    // Per-schema code with constant property names: V8 then caches each row property load
    // instead of taking the slow generic keyed path for every cell. Built from the schema's
    // field names (JSON-quoted), never from data or script text.
    const names = schema.fields.map((f) => JSON.stringify(f.name));
    this.pushRow = new Function(
      'b',
      'row',
      `'use strict'; let bytes = 0;\n${names.map((n, j) => `bytes += b[${j}].push(row[${n}]);`).join('\n')}\nreturn bytes;`,
    ) as (builders: readonly ColumnBuilder[], row: Row) => number;
    this.badColumn = new Function(
      'row',
      `'use strict'; let v;\n${schema.fields
        .map((f, j) => `v = row[${names[j]}]; if (v !== undefined && !(${typeTest(f.type)})) return ${j};`)
        .join('\n')}\nreturn -1;`,
    ) as (row: Row) => number;
  }

  /**
   * Appends rows; throws RowError (appending none of them) when a value does not fit its
   * column. A missing column gets the type's zero value; properties that are not columns are
   * not read (producers are typed against the schema).
   */
  append(rows: readonly Row[]): void {
    for (const row of rows) {
      const j = this.badColumn(row);
      if (j >= 0) {
        const f = this.schema.fields[j]!;
        throw new RowError(this.schema.name, f.name, valueFits(f.type, row[f.name] as RowValue) as string);
      }
    }
    for (const row of rows) this.appendOne(row);
  }

  /**
   * Appends `rows` rows given column by column (every column of the schema, each of the kind its
   * type takes: TIME64NS 'time', INT64/FLOAT64 'f64', BOOLEAN 'bool', STRING/UINT128 'dict').
   * Throws RowError, appending nothing, when a column is missing, of the wrong kind or length,
   * or a string code is outside its table. The budget holds when this returns, as for append.
   */
  appendColumns(rows: number, columns: Readonly<Record<string, ColumnInput>>): void {
    const inputs = this.schema.fields.map((f) => {
      const c = columns[f.name];
      const problem = c === undefined ? 'missing' : inputProblem(f.type, c, rows);
      if (problem !== undefined) throw new RowError(this.schema.name, f.name, problem);
      return c!;
    });
    const time = this.hasTime ? columns['time_'] as Extract<ColumnInput, { kind: 'time' }> : undefined;
    for (let off = 0; off < rows;) {
      if (this.tailRows === 0) this.openTailAt(time === undefined ? 0n : time.base + BigInt(time.data[off]!));
      const n = Math.min(rows - off, this.batchRows - this.tailRows);
      const tail = this.tail;
      if (!tail[0]!.hasRoom(n)) {
        for (const b of tail) b.reserve(this.tailRows + n);
        let bytes = 0;
        for (const b of tail) bytes += b.bytes();
        this.tailBytes = bytes;
      }
      for (let j = 0; j < tail.length; j++) this.tailBytes += tail[j]!.appendFrom(inputs[j]!, off, n);
      if (time !== undefined) {
        let lo = time.data[off]!;
        let hi = lo;
        for (let i = off + 1; i < off + n; i++) {
          const t = time.data[i]!;
          if (t < lo) lo = t;
          else if (t > hi) hi = t;
        }
        const min = time.base + BigInt(lo);
        const max = time.base + BigInt(hi);
        if (this.tailRows === 0 || min < this.tailMin) this.tailMin = min;
        if (this.tailRows === 0 || max > this.tailMax) this.tailMax = max;
      }
      this.tailRows += n;
      this.appended += n;
      off += n;
      if (this.tailRows >= this.batchRows || this.tailBytes * TAIL_BUDGET_FRACTION >= this.budgetBytes) this.seal();
      this.enforceBudget();
    }
  }

  private appendOne(row: Row): void {
    if (this.tailRows === 0) this.openTail(row);
    const tail = this.tail;
    if (!tail[0]!.hasRoom(1)) {
      for (const b of tail) b.reserve(this.tailRows + 1);
      let bytes = 0;
      for (const b of tail) bytes += b.bytes();
      this.tailBytes = bytes;
    }
    this.tailBytes += this.pushRow(tail, row);
    this.tailRows++;
    this.appended++;
    if (this.hasTime) {
      const tv = row['time_'];
      const t = tv === undefined ? 0n : typeof tv === 'bigint' ? tv : BigInt(tv as number);
      if (this.tailRows === 1 || t < this.tailMin) this.tailMin = t;
      if (this.tailRows === 1 || t > this.tailMax) this.tailMax = t;
    }
    if (this.tailRows >= this.batchRows || this.tailBytes * TAIL_BUDGET_FRACTION >= this.budgetBytes) this.seal();
    this.enforceBudget();
  }

  private openTail(row: Row): void {
    const tv = row['time_'];
    this.openTailAt(tv === undefined ? 0n : typeof tv === 'bigint' ? tv : BigInt(tv as number));
  }

  /** Opens a tail whose first row's `time_` is t. */
  private openTailAt(t: bigint): void {
    if (this.timeBase === null && this.hasTime) {
      // One base for the table (the first row's second) keeps offsets of every batch comparable.
      this.timeBase = t - (t % 1_000_000_000n);
    }
    const cap = Math.min(this.batchRows, INITIAL_TAIL_ROWS);
    this.tail = this.schema.fields.map((f) => new ColumnBuilder(f.name, f.type, cap, this.timeBase ?? 0n));
    this.tailBytes = 0;
    for (const b of this.tail) this.tailBytes += b.bytes();
  }

  /** Seals the open tail into an immutable batch (no-op when empty). */
  seal(): void {
    if (this.tailRows === 0) return;
    const columns = new Map<string, StoredColumn>();
    let bytes = 0;
    for (const b of this.tail) {
      const c = b.seal(this.tailRows);
      columns.set(b.name, c);
      bytes += columnBytes(c);
    }
    this.batches.push({ rows: this.tailRows, minTime: this.tailMin, maxTime: this.tailMax, columns, bytes });
    this.sealedBytes += bytes;
    this.sealedRows += this.tailRows;
    this.tail = [];
    this.tailRows = 0;
    this.tailBytes = 0;
  }

  private enforceBudget(): void {
    while (this.sealedBytes + this.tailBytes > this.budgetBytes) {
      if (this.batches.length === 0) {
        // A tail alone over budget (one huge row, or a tiny budget): it goes too.
        this.seal();
        if (this.batches.length === 0) return;
      }
      const b = this.batches.shift()!;
      this.sealedBytes -= b.bytes;
      this.sealedRows -= b.rows;
      this.dropped.rows += b.rows;
      this.dropped.batches++;
    }
  }

  /** Current counters. */
  stats(): TableStats {
    return {
      rows: this.sealedRows + this.tailRows,
      bytes: this.sealedBytes + this.tailBytes,
      batches: this.batches.length + (this.tailRows > 0 ? 1 : 0),
      budgetBytes: this.budgetBytes,
      droppedRows: this.dropped.rows,
      droppedBatches: this.dropped.batches,
      appendedRows: this.appended,
    };
  }

  /** The base TIME64NS offsets are relative to (null before the first row). */
  timeBaseNs(): bigint | null {
    return this.timeBase;
  }

  /** Sequence number the next appended row will get (= rows ever appended). */
  nextSeq(): number {
    return this.appended;
  }

  /**
   * At most `maxRows` rows from sequence number `seq` on (from the oldest stored row when `seq`
   * is older), oldest first. A batch keeps the time bounds of the batch it was cut from, which
   * still bound its rows.
   */
  since(seq: number, maxRows: number): SeqRange {
    const firstSeq = this.appended - (this.sealedRows + this.tailRows);
    const from = Math.max(seq, firstSeq);
    const to = Math.min(this.appended, from + maxRows);
    const out: ColumnBatch[] = [];
    let s = firstSeq;
    const take = (b: ColumnBatch): void => {
      const end = s + b.rows;
      if (end > from && s < to) {
        const lo = Math.max(from, s) - s;
        const hi = Math.min(to, end) - s;
        const columns = new Map<string, StoredColumn>();
        for (const [name, c] of b.columns) columns.set(name, sliceColumn(c, lo, hi));
        out.push({ rows: hi - lo, minTime: b.minTime, maxTime: b.maxTime, columns, bytes: Math.ceil((b.bytes * (hi - lo)) / b.rows) });
      }
      s = end;
    };
    for (const b of this.batches) {
      if (s >= to) break;
      take(b);
    }
    const n = this.tailRows;
    if (n > 0 && s < to) {
      take({ rows: n, minTime: this.tailMin, maxTime: this.tailMax, columns: new Map(this.tail.map((b) => [b.name, b.view(n)])), bytes: this.tailBytes });
    }
    return { firstSeq, from, to, batches: out };
  }

  /**
   * Batches that may hold rows with `startNs <= time_ < endNs` (null: unbounded), oldest first,
   * ending with a snapshot of the open tail. Rows inside a returned batch are not filtered here.
   */
  *scan(startNs: bigint | null, endNs: bigint | null): Generator<ColumnBatch> {
    const batches = this.batches.slice();
    for (const b of batches) {
      if (this.hasTime && !overlaps(b, startNs, endNs)) continue;
      yield b;
    }
    const n = this.tailRows;
    if (n === 0) return;
    const tailBatch: ColumnBatch = {
      rows: n,
      minTime: this.tailMin,
      maxTime: this.tailMax,
      columns: new Map(this.tail.map((b) => [b.name, b.view(n)])),
      bytes: this.tailBytes,
    };
    if (!this.hasTime || overlaps(tailBatch, startNs, endNs)) yield tailBatch;
  }
}

/** Why a column input does not fit a column of `type` with `rows` rows, or undefined when it does. */
function inputProblem(type: DataType, c: ColumnInput, rows: number): string | undefined {
  const want = type === 'TIME64NS' ? 'time' : type === 'INT64' || type === 'FLOAT64' ? 'f64' : type === 'BOOLEAN' ? 'bool' : 'dict';
  if (c.kind !== want) return `expected a '${want}' column input, got '${c.kind}'`;
  const n = c.kind === 'dict' ? c.codes.length : c.data.length;
  if (n !== rows) return `has ${n} values for ${rows} rows`;
  if (c.kind === 'dict') {
    let max = 0;
    for (let i = 0; i < n; i++) if (c.codes[i]! > max) max = c.codes[i]!;
    if (n > 0 && max >= c.dict.length) return `code ${max} is outside its table of ${c.dict.length} strings`;
  }
  return undefined;
}

function overlaps(b: ColumnBatch, startNs: bigint | null, endNs: bigint | null): boolean {
  if (startNs !== null && b.maxTime < startNs) return false;
  if (endNs !== null && b.minTime >= endNs) return false;
  return true;
}

/** The JS test (on `v`) that a value fits a column type, for the generated validator. */
function typeTest(type: DataType): string {
  switch (type) {
    case 'STRING':
    case 'UINT128':
      return "typeof v === 'string'";
    case 'BOOLEAN':
      return "typeof v === 'boolean'";
    case 'FLOAT64':
      return "typeof v === 'number'";
    case 'INT64':
    case 'TIME64NS':
      return "(typeof v === 'number' && Number.isSafeInteger(v)) || (typeof v === 'bigint' && v >= -9223372036854775808n && v <= 9223372036854775807n)";
  }
}

function valueFits(type: DataType, v: RowValue): true | string {
  switch (type) {
    case 'STRING':
    case 'UINT128':
      return typeof v === 'string' ? true : `expected a string, got ${typeof v}`;
    case 'BOOLEAN':
      return typeof v === 'boolean' ? true : `expected a boolean, got ${typeof v}`;
    case 'FLOAT64':
      return typeof v === 'number' ? true : `expected a number, got ${typeof v}`;
    case 'INT64':
    case 'TIME64NS':
      if (typeof v === 'bigint') {
        return v >= -(1n << 63n) && v < 1n << 63n ? true : `${v} does not fit in 64 bits`;
      }
      if (typeof v === 'number') return Number.isSafeInteger(v) ? true : `${v} is not a safe integer (use a bigint)`;
      return `expected an integer, got ${typeof v}`;
  }
}
