import type { DataType, Field } from '../../../schema.js';
import type { Catalog } from '../../catalog.js';
import { PxlError } from '../../diagnostic.js';
import type { AggExpr, Expr, LiteralValue, LogicalPlan } from '../../plan/logical.js';
import { compilePattern } from '../../regex.js';
import { registryEntry } from '../../functions/registry.js';
import { METADATA_FNS } from '../../functions/metadata.js';
import type { LookupSpec, WireFragment, WireLiteral, WirePlan } from '../wire/messages.js';

/**
 * Checks a `POST /api/v1/partial` body on the engine. The body is untrusted input: every node,
 * column, type and function is checked against the catalog and the registry as the compiler
 * would, schemas are recomputed rather than read, and anything else is a `BAD_FRAGMENT` error
 * naming the path to the offending part (`fragments[0].plan.input.predicate.args[1]`).
 */

/** A checked fragment, ready for the executor. */
export interface CheckedFragment {
  readonly id: string;
  readonly plan: LogicalPlan;
  readonly lookups: readonly LookupSpec[];
}

/** A checked request. */
export interface CheckedRequest {
  readonly nowNs: bigint;
  readonly fragments: readonly CheckedFragment[];
}

const MAX_FRAGMENTS = 64;
const MAX_DEPTH = 128;
const MAX_NODES = 20_000;
const MAX_LIMIT = 10_000_000;
const TYPES: ReadonlySet<string> = new Set<DataType>(['BOOLEAN', 'INT64', 'FLOAT64', 'STRING', 'TIME64NS', 'UINT128']);
const DECIMAL = /^-?\d{1,20}$/;

function bad(path: string, message: string): PxlError {
  return new PxlError('BAD_FRAGMENT', `${path}: ${message}`, undefined, ['fragments are built by wisp broker; see docs/broker.md']);
}

function obj(v: unknown, path: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw bad(path, 'expected an object');
  return v as Record<string, unknown>;
}

function arr(v: unknown, path: string): unknown[] {
  if (!Array.isArray(v)) throw bad(path, 'expected an array');
  return v;
}

function str(v: unknown, path: string): string {
  if (typeof v !== 'string') throw bad(path, 'expected a string');
  return v;
}

function type(v: unknown, path: string): DataType {
  if (typeof v !== 'string' || !TYPES.has(v)) throw bad(path, `expected a column type (${[...TYPES].join(', ')})`);
  return v as DataType;
}

function int64(v: unknown, path: string): bigint {
  if (typeof v !== 'string' || !DECIMAL.test(v)) throw bad(path, 'expected a decimal integer string');
  const b = BigInt(v);
  if (b !== BigInt.asIntN(64, b)) throw bad(path, 'integer out of the INT64 range');
  return b;
}

class Checker {
  private nodes = 0;
  constructor(private readonly catalog: Catalog) {}

  private count(path: string, depth: number): void {
    if (++this.nodes > MAX_NODES) throw bad(path, `the request has more than ${MAX_NODES} plan and expression nodes`);
    if (depth > MAX_DEPTH) throw bad(path, `nested deeper than ${MAX_DEPTH}`);
  }

  literal(v: unknown, t: DataType, path: string): LiteralValue {
    const w = v as WireLiteral;
    switch (t) {
      case 'BOOLEAN':
        if (typeof w !== 'boolean') throw bad(path, 'a BOOLEAN literal must be true or false');
        return w;
      case 'INT64':
      case 'TIME64NS':
        if (typeof w === 'number' && Number.isSafeInteger(w)) return w;
        return int64(obj(w, path)['big'], `${path}.big`);
      case 'FLOAT64': {
        if (typeof w === 'number') return w;
        const f = obj(w, path)['f'];
        if (f === 'NaN') return NaN;
        if (f === 'Infinity') return Infinity;
        if (f === '-Infinity') return -Infinity;
        throw bad(`${path}.f`, "expected 'NaN', 'Infinity' or '-Infinity'");
      }
      case 'STRING':
      case 'UINT128':
        return str(w, path);
    }
  }

  expr(v: unknown, input: readonly Field[], path: string, depth: number): Expr {
    this.count(path, depth);
    const o = obj(v, path);
    const t = type(o['type'], `${path}.type`);
    switch (o['kind']) {
      case 'column': {
        const name = str(o['name'], `${path}.name`);
        const f = input.find((x) => x.name === name);
        if (!f) throw bad(`${path}.name`, `no column '${name}' in the input (has ${input.map((x) => x.name).join(', ')})`);
        if (f.type !== t) throw bad(`${path}.type`, `column '${name}' is ${f.type}, not ${t}`);
        return { kind: 'column', name, type: t };
      }
      case 'literal':
        return { kind: 'literal', type: t, value: this.literal(o['value'], t, `${path}.value`) };
      case 'call': {
        const fn = str(o['fn'], `${path}.fn`);
        const entry = registryEntry(fn);
        if (!entry || (entry.kind !== 'scalar' && entry.kind !== 'operator') || entry.eval === undefined) {
          throw bad(`${path}.fn`, `'${fn}' is not a scalar function or operator`);
        }
        const args = arr(o['args'], `${path}.args`).map((a, i) => this.expr(a, input, `${path}.args[${i}]`, depth + 1));
        const sig = entry.signatures.find((s) => s.ret === t && s.args.length === args.length && s.args.every((a, i) => a === args[i]!.type));
        if (!sig) {
          throw bad(path, `${fn}(${args.map((a) => a.type).join(', ')}) -> ${t} matches no signature of ${entry.spelling}`);
        }
        if (fn === 'regex_match') checkRegex(args[0]!, `${path}.args[0]`);
        return { kind: 'call', fn, args, type: t };
      }
      default:
        throw bad(`${path}.kind`, "expected 'column', 'literal' or 'call'");
    }
  }

  agg(v: unknown, input: readonly Field[], path: string): AggExpr {
    const o = obj(v, path);
    const name = str(o['name'], `${path}.name`);
    const fn = str(o['fn'], `${path}.fn`);
    const t = type(o['type'], `${path}.type`);
    const entry = registryEntry(fn);
    if (!entry || entry.agg === undefined) {
      throw bad(`${path}.fn`, `'${fn}' is not an aggregate`);
    }
    const args = arr(o['args'], `${path}.args`).map((a, i) => this.expr(a, input, `${path}.args[${i}]`, 1));
    if (!entry.signatures.some((s) => s.ret === t && s.args.length === args.length && s.args.every((a, i) => a === args[i]!.type))) {
      throw bad(path, `${fn}(${args.map((a) => a.type).join(', ')}) -> ${t} matches no signature`);
    }
    return { name, fn, args, type: t };
  }

  plan(v: unknown, path: string, depth: number, top: boolean): LogicalPlan {
    this.count(path, depth);
    const o = obj(v, path);
    const kind = o['kind'];
    if (kind === 'source') {
      const table = str(o['table'], `${path}.table`);
      const schema = this.catalog.table(table);
      if (!schema) throw bad(`${path}.table`, `no table '${table}'`);
      const columns = arr(o['columns'], `${path}.columns`).map((c, i) => str(c, `${path}.columns[${i}]`));
      const fields = columns.map((c, i) => {
        const f = schema.fields.find((x) => x.name === c);
        if (!f) throw bad(`${path}.columns[${i}]`, `no column '${c}' in ${table}`);
        return f;
      });
      unique(columns, `${path}.columns`);
      const bound = (b: unknown, p: string): bigint | null => (b === null ? null : int64(b, p));
      return { kind: 'source', table, columns, startNs: bound(o['startNs'], `${path}.startNs`), endNs: bound(o['endNs'], `${path}.endNs`), schema: fields };
    }
    if (kind === 'filter') {
      const input = this.plan(o['input'], `${path}.input`, depth + 1, false);
      const predicate = this.expr(o['predicate'], input.schema, `${path}.predicate`, 1);
      if (predicate.type !== 'BOOLEAN') throw bad(`${path}.predicate`, `a filter needs a BOOLEAN predicate, not ${predicate.type}`);
      return { kind: 'filter', input, predicate, schema: input.schema };
    }
    if (kind === 'map') {
      const input = this.plan(o['input'], `${path}.input`, depth + 1, false);
      const exprs = arr(o['exprs'], `${path}.exprs`).map((e, i) => {
        const eo = obj(e, `${path}.exprs[${i}]`);
        return { name: str(eo['name'], `${path}.exprs[${i}].name`), expr: this.expr(eo['expr'], input.schema, `${path}.exprs[${i}].expr`, 1) };
      });
      unique(
        exprs.map((e) => e.name),
        `${path}.exprs`,
      );
      return { kind: 'map', input, exprs, schema: exprs.map((e) => ({ name: e.name, type: e.expr.type })) };
    }
    if (kind === 'agg' || kind === 'limit') {
      if (!top) throw bad(`${path}.kind`, `'${kind}' may only be the top node of a fragment`);
      const input = this.plan(o['input'], `${path}.input`, depth + 1, false);
      if (kind === 'limit') {
        const n = o['n'];
        if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > MAX_LIMIT) throw bad(`${path}.n`, `expected an integer 0..${MAX_LIMIT}`);
        return { kind: 'limit', input, n, schema: input.schema };
      }
      const groups = arr(o['groups'], `${path}.groups`).map((g, i) => str(g, `${path}.groups[${i}]`));
      const groupFields = groups.map((g, i) => {
        const f = input.schema.find((x) => x.name === g);
        if (!f) throw bad(`${path}.groups[${i}]`, `no column '${g}' in the input`);
        return f;
      });
      const aggs = arr(o['aggs'], `${path}.aggs`).map((a, i) => this.agg(a, input.schema, `${path}.aggs[${i}]`));
      unique([...groups, ...aggs.map((a) => a.name)], `${path}.groups/aggs`);
      return { kind: 'agg', input, groups, aggs, schema: [...groupFields, ...aggs.map((a) => ({ name: a.name, type: a.type }))] };
    }
    throw bad(`${path}.kind`, "expected 'source', 'filter', 'map', 'agg' or 'limit'");
  }
}

function unique(names: readonly string[], path: string): void {
  const seen = new Set<string>();
  for (const n of names) {
    if (seen.has(n)) throw bad(path, `'${n}' appears twice`);
    seen.add(n);
  }
}

/** The planner's regex rule (a constant RE2 can compile, regex.ts), enforced again here. */
function checkRegex(pattern: Expr, path: string): void {
  if (pattern.kind !== 'literal' || typeof pattern.value !== 'string') throw bad(path, 'the pattern of regex_match must be a string literal');
  const m = compilePattern(pattern.value);
  if (typeof m !== 'function') throw bad(path, m.message);
}

function lookup(v: unknown, schema: readonly Field[], path: string): LookupSpec {
  const o = obj(v, path);
  const column = str(o['column'], `${path}.column`);
  const f = schema.find((x) => x.name === column);
  if (!f || (f.type !== 'STRING' && f.type !== 'UINT128')) throw bad(`${path}.column`, `no STRING or UINT128 output column '${column}'`);
  const fns = arr(o['fns'], `${path}.fns`).map((x, i) => {
    const fn = str(x, `${path}.fns[${i}]`);
    if (!METADATA_FNS.has(fn)) throw bad(`${path}.fns[${i}]`, `'${fn}' is not a metadata function`);
    return fn;
  });
  if (fns.length === 0 || fns.length > 8) throw bad(`${path}.fns`, 'expected 1 to 8 functions');
  return { column, fns };
}

/** Checks a partial request against the engine's catalog; throws BAD_FRAGMENT naming what is wrong. */
export function checkPartialRequest(body: unknown, catalog: Catalog): CheckedRequest {
  const o = obj(body, 'body');
  const nowNs = int64(o['nowNs'], 'nowNs');
  const frags = arr(o['fragments'], 'fragments');
  if (frags.length === 0 || frags.length > MAX_FRAGMENTS) throw bad('fragments', `expected 1 to ${MAX_FRAGMENTS} fragments`);
  const checker = new Checker(catalog);
  const ids = new Set<string>();
  const fragments = frags.map((f, i): CheckedFragment => {
    const p = `fragments[${i}]`;
    const fo = obj(f, p) as Partial<Record<keyof WireFragment, unknown>>;
    const id = str(fo.id, `${p}.id`);
    if (ids.has(id)) throw bad(`${p}.id`, `fragment id '${id}' appears twice`);
    ids.add(id);
    const plan = checker.plan(fo.plan as WirePlan, `${p}.plan`, 0, true);
    const lookups = arr(fo.lookups ?? [], `${p}.lookups`).map((l, j) => lookup(l, plan.kind === 'agg' ? plan.schema.filter((x) => plan.groups.includes(x.name)) : plan.schema, `${p}.lookups[${j}]`));
    return { id, plan, lookups };
  });
  return { nowNs, fragments };
}

