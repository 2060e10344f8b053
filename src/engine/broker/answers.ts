import { Ajv, type ValidateFunction } from 'ajv';
import type { ReadyResponse, SchemaResponse } from '../api/contract.js';
import { aggShape } from '../pxl/distributed/broker/merge.js';
import type { Fragment } from '../pxl/distributed/broker/split.js';
import type { NodeInfo, PartialLine } from '../pxl/distributed/wire/messages.js';
import { bucketIndex, MIN_POSITIVE } from '../pxl/functions/aggregates/sketch.js';
import type { DataType } from '../schema.js';

/**
 * The broker does not trust engines: every answer it reads — `/readyz`, `/api/v1/schema`,
 * `/api/v1/node` and each NDJSON line of `/api/v1/partial` — is checked against a JSON schema
 * (ajv) before anything is taken from it, down to the type of every cell and the shape of every
 * partial aggregate state. A malformed answer is a MalformedAnswer naming what was wrong; the
 * backend leaves the engine out and says so, it never throws at its own clients.
 */

/** An engine answered something that is not the contract (docs/api.md, docs/broker.md). */
export class MalformedAnswer extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MalformedAnswer';
  }
}

const ajv = new Ajv({ allErrors: false, strict: true, allowUnionTypes: true, discriminator: true });

const DATA_TYPES = ['BOOLEAN', 'INT64', 'FLOAT64', 'STRING', 'TIME64NS', 'UINT128'] as const satisfies readonly DataType[];
/** Names of tables, columns, checks, drop reasons: identifiers, never `__proto__` and kin. */
const NAME = { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_.:/ -]{0,127}$', not: { enum: ['__proto__', 'constructor', 'prototype'] } } as const;
const COUNT = { type: 'number', minimum: 0 } as const;
const TEXT = { type: 'string', maxLength: 65_536 } as const;
const POSITION = { type: 'object', required: ['line', 'column'], properties: { line: { type: 'integer' }, column: { type: 'integer' } } } as const;
const DIAGNOSTIC = {
  type: 'object',
  required: ['severity', 'code', 'message', 'hints'],
  properties: {
    severity: { enum: ['error', 'warning'] },
    code: { type: 'string', pattern: '^[A-Z0-9_]{1,64}$' },
    message: TEXT,
    span: { type: 'object', required: ['start', 'end'], properties: { start: POSITION, end: POSITION } },
    hints: { type: 'array', maxItems: 32, items: TEXT },
  },
} as const;

const READY = {
  type: 'object',
  required: ['ready', 'version', 'checks', 'capture', 'tables'],
  properties: {
    ready: { type: 'boolean' },
    version: { type: 'string', maxLength: 128 },
    checks: {
      type: 'array',
      maxItems: 64,
      items: { type: 'object', required: ['name', 'ok', 'detail'], properties: { name: TEXT, ok: { type: 'boolean' }, detail: TEXT } },
    },
    capture: {
      type: 'object',
      required: ['running', 'events', 'drops'],
      properties: { running: { type: 'boolean' }, events: COUNT, drops: { type: 'object', maxProperties: 256, propertyNames: NAME, additionalProperties: COUNT } },
    },
    tables: {
      type: 'object',
      maxProperties: 256,
      propertyNames: NAME,
      additionalProperties: { type: 'object', required: ['rows', 'bytes', 'droppedRows'], properties: { rows: COUNT, bytes: COUNT, droppedRows: COUNT } },
    },
  },
} as const;

const SCHEMA = {
  type: 'object',
  required: ['tables'],
  properties: {
    tables: {
      type: 'array',
      minItems: 1,
      maxItems: 256,
      // The broker compiles against it: a schema without the table every engine has is not one.
      contains: { type: 'object', required: ['name'], properties: { name: { const: 'http_events' } } },
      items: {
        type: 'object',
        required: ['name', 'columns'],
        properties: {
          name: NAME,
          doc: TEXT,
          columns: {
            type: 'array',
            minItems: 1,
            maxItems: 1024,
            items: {
              type: 'object',
              required: ['name', 'type'],
              properties: { name: NAME, type: { enum: DATA_TYPES }, semantic: { type: 'string', pattern: '^ST_[A-Z0-9_]{1,64}$' }, doc: TEXT },
            },
          },
        },
      },
    },
  },
} as const;

const NAMES = { type: 'array', maxItems: 100_000, items: { type: 'string', maxLength: 253 } } as const;
const NODE = { type: 'object', required: ['node'], properties: { node: { type: 'string', maxLength: 253 }, namespaces: NAMES, pods: NAMES, services: NAMES } } as const;

/** Rows or groups per line: the engines send at most 4096 (docs/api.md); a little room above. */
const LINE_ITEMS = 65_536;
const ROW_COUNT = { type: 'integer', minimum: 0, maximum: LINE_ITEMS } as const;
const COLUMNS = { type: 'array', maxItems: 4096, items: { type: 'array', maxItems: LINE_ITEMS } } as const;
const LINE = {
  type: 'object',
  required: ['t'],
  properties: { t: { enum: ['rows', 'groups', 'lookup', 'end', 'error'] } },
  discriminator: { propertyName: 't' },
  oneOf: [
    { properties: { t: { const: 'rows' }, fragment: { type: 'string' }, n: ROW_COUNT, data: COLUMNS }, required: ['fragment', 'n', 'data'] },
    { properties: { t: { const: 'groups' }, fragment: { type: 'string' }, n: ROW_COUNT, keys: COLUMNS, partials: COLUMNS }, required: ['fragment', 'n', 'keys', 'partials'] },
    {
      properties: { t: { const: 'lookup' }, fn: { type: 'string', pattern: '^[a-z_]{1,64}$' }, values: { type: 'object', additionalProperties: { type: ['string', 'number'] } } },
      required: ['fn', 'values'],
    },
    {
      properties: {
        t: { const: 'end' },
        stats: { type: 'object', required: ['rowsScanned', 'bytesScanned', 'executeMs'], properties: { rowsScanned: COUNT, bytesScanned: COUNT, executeMs: COUNT } },
        warnings: { type: 'array', maxItems: 1024, items: DIAGNOSTIC },
      },
      required: ['stats', 'warnings'],
    },
    { properties: { t: { const: 'error' }, error: DIAGNOSTIC }, required: ['error'] },
  ],
} as const;

const DECIMAL = { type: 'string', pattern: '^-?[0-9]{1,20}$' } as const;
const FLOAT = { anyOf: [{ type: 'number' }, { enum: ['NaN', 'Infinity', '-Infinity'] }] } as const;
/** Cells in the API's value encoding, by column type. */
const CELL: Record<DataType, object> = {
  BOOLEAN: { type: 'boolean' },
  INT64: DECIMAL,
  TIME64NS: DECIMAL,
  FLOAT64: FLOAT,
  STRING: { type: 'string' },
  UINT128: { type: 'string', maxLength: 64 },
};
const MIN_BUCKET = bucketIndex(MIN_POSITIVE) - 1;
const MAX_BUCKET = bucketIndex(Number.MAX_VALUE) + 1;
const BUCKETS = { type: 'array', maxItems: MAX_BUCKET - MIN_BUCKET + 1, items: COUNT } as const;
const OFFSET = { type: 'integer', minimum: MIN_BUCKET, maximum: MAX_BUCKET } as const;
const EXTREME = { anyOf: [{ type: 'number' }, { type: 'null' }] } as const;
/** Partial aggregate states on the wire (pxl/functions/aggregates/*.ts, agg.encode), by aggregate and argument type. */
function partialSchema(fn: string, argType: DataType): object {
  switch (fn) {
    case 'count':
      return { type: 'integer', minimum: 0 };
    case 'sum':
      return { anyOf: [FLOAT, DECIMAL] };
    case 'mean':
      return { type: 'object', required: ['sum', 'count'], properties: { sum: FLOAT, count: COUNT } };
    case 'min':
    case 'max':
    case 'any': {
      // Numbers travel as floats, times as absolute decimal strings (engines' bases differ).
      const value = argType === 'TIME64NS' ? DECIMAL : argType === 'STRING' || argType === 'UINT128' ? { type: 'string' } : fn === 'any' && argType === 'BOOLEAN' ? { type: 'boolean' } : FLOAT;
      return { anyOf: [{ type: 'null' }, value] };
    }
    case 'quantiles':
      return {
        type: 'object',
        required: ['posOffset', 'pos', 'negOffset', 'neg', 'zero', 'count', 'min', 'max'],
        properties: { posOffset: OFFSET, pos: BUCKETS, negOffset: OFFSET, neg: BUCKETS, zero: COUNT, count: COUNT, min: EXTREME, max: EXTREME },
      };
    default:
      throw new Error(`no wire schema for aggregate '${fn}'`);
  }
}

const checkReady = ajv.compile<ReadyResponse>(READY);
const checkSchemaAnswer = ajv.compile<SchemaResponse>(SCHEMA);
const checkNode = ajv.compile<NodeInfo>(NODE);
const checkLineShape = ajv.compile<PartialLine>(LINE);
const columnCheckers = new Map<string, ValidateFunction>();

/** A validator of one column of cells (`{type: array, items: …}`), compiled once per kind. */
function columnChecker(key: string, items: () => object): ValidateFunction {
  let v = columnCheckers.get(key);
  if (!v) {
    v = ajv.compile({ type: 'array', items: items() });
    columnCheckers.set(key, v);
  }
  return v;
}

function why(v: ValidateFunction): string {
  const e = v.errors?.[0];
  if (!e) return 'is not valid';
  const name = e.propertyName !== undefined ? ` property name '${e.propertyName.slice(0, 64)}'` : '';
  return `${e.instancePath || '(the body)'}${name} ${e.message ?? 'is not valid'}`;
}

function checked<T>(v: ValidateFunction<T>, body: unknown, what: string): T {
  if (!v(body)) throw new MalformedAnswer(`answered ${what} with a malformed body: ${why(v)}`);
  return body;
}

/** An engine's `/readyz` body (200 or 503), checked. */
export function readyAnswer(body: unknown): ReadyResponse {
  return checked(checkReady, body, '/readyz');
}

/** An engine's `/api/v1/schema`, checked; column names must be unique within a table. */
export function schemaAnswer(body: unknown): SchemaResponse {
  const s = checked(checkSchemaAnswer, body, '/api/v1/schema');
  for (const t of s.tables) {
    const seen = new Set<string>();
    for (const c of t.columns) {
      if (seen.has(c.name)) throw new MalformedAnswer(`answered /api/v1/schema with a malformed body: table '${t.name}' lists column '${c.name}' twice`);
      seen.add(c.name);
    }
  }
  return s;
}

/** An engine's `/api/v1/node`, checked. */
export function nodeAnswer(body: unknown): NodeInfo {
  return checked(checkNode, body, '/api/v1/node');
}

interface FragmentShape {
  readonly t: 'rows' | 'groups';
  /** Cell validators of the data columns (rows) or key columns (groups). */
  readonly columns: readonly ValidateFunction[];
  /** Partial-state validators, one per aggregate (groups only). */
  readonly partials: readonly ValidateFunction[];
}

/**
 * Checks the NDJSON lines of one query's `/api/v1/partial` answers against the fragments the
 * broker sent: the envelope, then every column of cells against its type and every partial state
 * against its aggregate, before the merger sees the line.
 */
export class LineChecker {
  private readonly shapes = new Map<string, FragmentShape>();

  constructor(fragments: readonly Fragment[]) {
    for (const f of fragments) {
      if (f.plan.kind === 'agg') {
        const { keyTypes, argTypes } = aggShape(f.plan);
        const aggs = f.plan.aggs;
        this.shapes.set(f.id, {
          t: 'groups',
          columns: keyTypes.map((t) => columnChecker(t, () => CELL[t])),
          partials: aggs.map((a, i) => columnChecker(`${a.fn}:${argTypes[i]}`, () => partialSchema(a.fn, argTypes[i]!))),
        });
      } else {
        this.shapes.set(f.id, { t: 'rows', columns: f.schema.map((c) => columnChecker(c.type, () => CELL[c.type])), partials: [] });
      }
    }
  }

  /** The line, checked; throws MalformedAnswer naming the first thing wrong. */
  check(value: unknown): PartialLine {
    const line = checked(checkLineShape, value, '/api/v1/partial');
    if (line.t !== 'rows' && line.t !== 'groups') return line;
    const shape = this.shapes.get(line.fragment);
    const bad = (what: string): MalformedAnswer => new MalformedAnswer(`answered /api/v1/partial with a malformed line for fragment '${line.fragment}': ${what}`);
    if (!shape) throw bad('no such fragment was sent');
    if (shape.t !== line.t) throw bad(`expected ${shape.t}, got ${line.t}`);
    const columns = line.t === 'rows' ? line.data : line.keys;
    const partials = line.t === 'groups' ? line.partials : [];
    if (columns.length !== shape.columns.length) throw bad(`expected ${shape.columns.length} columns, got ${columns.length}`);
    if (partials.length !== shape.partials.length) throw bad(`expected ${shape.partials.length} partial columns, got ${partials.length}`);
    const all: [readonly unknown[], ValidateFunction, string][] = [
      ...columns.map((c, j): [readonly unknown[], ValidateFunction, string] => [c, shape.columns[j]!, `column ${j}`]),
      ...partials.map((c, j): [readonly unknown[], ValidateFunction, string] => [c, shape.partials[j]!, `partial column ${j}`]),
    ];
    for (const [cells, v, what] of all) {
      if (cells.length !== line.n) throw bad(`${what} has ${cells.length} values for n=${line.n}`);
      if (!v(cells)) throw bad(`${what}: ${why(v)}`);
    }
    return line;
  }
}
