import { STRING_LOOKUPS, upidToPid } from '../../meta/lookups.js';
import type { MetadataView } from '../../meta/types.js';
import type { DataType } from '../../schema.js';
import { PxlCode, PxlError } from '../diagnostic.js';
import type { Expr } from '../plan/logical.js';
import { LIMITS } from '../plan/limits.js';
import { patternFor } from '../regex.js';
import { forEachNode } from '../plan/walk.js';
import { binaryKernel, floorToKernel } from './kernels.js';
import { parsedDict } from './parsed.js';
import type { EvalEnv } from './runtime.js';
import { toNum, type Chunk, type NumData, type Vec } from './vec.js';

/** A constant operand; TIME64NS constants are offsets from the query's time base, like columns. */
export interface Scalar {
  readonly t: 'scalar';
  readonly v: number | string | boolean;
}

/** The value of an expression over a chunk: a column of `chunk.n` rows or one constant. */
export type Val = Vec | Scalar;

/** Resolves column names of the chunk's schema to positions. */
export type ColumnIndex = ReadonlyMap<string, number>;

type StrVec = Extract<Vec, { t: 'str' }>;
/**
 * An evaluation in progress: the query's env, and the values of shared nodes (see `sharedUses`)
 * computed and not yet read by all their parents, with how many reads remain.
 */
interface Scoped extends EvalEnv {
  readonly shared: ReadonlyMap<Expr, number>;
  readonly held: Map<Expr, { v: Val; left: number }>;
}

type Impl = (args: readonly Expr[], chunk: Chunk, cols: ColumnIndex, env: Scoped, type: DataType) => Val;

const sharing = new WeakMap<Expr, ReadonlyMap<Expr, number>>();

/**
 * The call nodes of `root` that several parents read (`a = a + a` makes each node the two
 * arguments of the next), with how many reads each gets; remembered per root. Every function
 * reads each of its arguments exactly once.
 */
function sharedUses(root: Expr): ReadonlyMap<Expr, number> {
  let uses = sharing.get(root);
  if (!uses) {
    const reads = new Map<Expr, number>();
    forEachNode(root, (x) => {
      if (x.kind === 'call') for (const a of x.args) if (a.kind === 'call') reads.set(a, (reads.get(a) ?? 0) + 1);
    });
    const shared = new Map<Expr, number>();
    for (const [x, n] of reads) if (n > 1) shared.set(x, n);
    uses = shared;
    sharing.set(root, uses);
  }
  return uses;
}

/**
 * Evaluates an expression column-at-a-time over the live rows of a chunk. A node that several
 * parents read is computed once per chunk and held only until its last parent has read it, so
 * the work is the number of distinct nodes, not the size of the expression written out.
 */
export function evalExpr(e: Expr, chunk: Chunk, cols: ColumnIndex, env: EvalEnv): Val {
  return ev(e, chunk, cols, { timeBase: env.timeBase, metadata: env.metadata, nowNs: env.nowNs, shared: sharedUses(e), held: new Map() });
}

function ev(e: Expr, chunk: Chunk, cols: ColumnIndex, env: Scoped): Val {
  switch (e.kind) {
    case 'column': {
      const j = cols.get(e.name);
      if (j === undefined) throw new PxlError('PXL_INTERNAL', `executor: no column '${e.name}' in the input`);
      return chunk.cols[j]!;
    }
    case 'literal':
      return literal(e.value, e.type, env.timeBase);
    case 'call': {
      const held = env.held.get(e);
      if (held) {
        if (--held.left === 0) env.held.delete(e);
        return held.v;
      }
      const impl = FUNCTIONS.get(e.fn);
      if (!impl) throw new PxlError('PXL_UNKNOWN_FUNCTION', `executor: no implementation of '${e.fn}'`);
      const v = impl(e.args, chunk, cols, env, e.type);
      const reads = env.shared.get(e);
      if (reads !== undefined) env.held.set(e, { v, left: reads - 1 });
      return v;
    }
  }
}

function literal(value: boolean | bigint | number | string, type: DataType, timeBase: bigint): Scalar {
  if (type === 'TIME64NS') {
    const abs = typeof value === 'bigint' ? value : BigInt(Math.trunc(Number(value)));
    return { t: 'scalar', v: Number(abs - timeBase) };
  }
  if (typeof value === 'bigint') return { t: 'scalar', v: Number(value) };
  return { t: 'scalar', v: value };
}

/** Whether an implementation exists for a registry name (tests check the registry against it). */
export function hasFunction(name: string): boolean {
  return FUNCTIONS.has(name);
}

/** Names of every implemented scalar function. */
export function functionNames(): string[] {
  return [...FUNCTIONS.keys()];
}

type Operand = NumData | Uint8Array | number;

function operand(v: Val, n: number, env: EvalEnv, type: DataType): Operand {
  if (v.t === 'scalar') return typeof v.v === 'boolean' ? (v.v ? 1 : 0) : (v.v as number);
  if (v.t === 'bool') return v.d;
  return toNum(v, n, env.timeBase, type === 'TIME64NS');
}

/**
 * Evaluates an argument as a TIME64NS offset when the other side of a comparison is a time:
 * an INT64/FLOAT64 literal is absolute ns, so it is rebased exactly as a bigint.
 */
function evalTimeAligned(e: Expr, other: DataType, chunk: Chunk, cols: ColumnIndex, env: Scoped): Val {
  if (other !== 'TIME64NS' || e.type === 'TIME64NS' || (e.type !== 'INT64' && e.type !== 'FLOAT64')) {
    return ev(e, chunk, cols, env);
  }
  if (e.kind === 'literal') return literal(e.value, 'TIME64NS', env.timeBase);
  const v = ev(e, chunk, cols, env);
  if (v.t === 'scalar') return { t: 'scalar', v: (v.v as number) - Number(env.timeBase) };
  const d = toNum(v, chunk.n, env.timeBase, false);
  const out = new Float64Array(chunk.n);
  const shift = Number(env.timeBase);
  for (let i = 0; i < chunk.n; i++) out[i] = d[i]! - shift;
  return { t: 'num', d: out };
}

function binaryNum(op: string, a: Val, b: Val, ta: DataType, tb: DataType, chunk: Chunk, env: EvalEnv, bool: boolean): Val {
  const n = chunk.n;
  const x = operand(a, n, env, ta);
  const y = operand(b, n, env, tb);
  const aVec = typeof x !== 'number';
  const bVec = typeof y !== 'number';
  const k = binaryKernel(op, aVec, bVec);
  if (!aVec && !bVec) {
    const out = bool ? new Uint8Array(1) : new Float64Array(1);
    k(x, y, out, null, 1);
    return { t: 'scalar', v: bool ? out[0] === 1 : out[0]! };
  }
  const out = bool ? new Uint8Array(n) : new Float64Array(n);
  k(x, y, out, chunk.sel, n);
  return bool ? { t: 'bool', d: out as Uint8Array } : { t: 'num', d: out as Float64Array };
}

function arith(op: string): Impl {
  return (args, chunk, cols, env, type) => {
    const [ea, eb] = args as [Expr, Expr];
    const a = ev(ea, chunk, cols, env);
    const b = ev(eb, chunk, cols, env);
    if (op === 'add' && type === 'STRING') return concat(a, b, chunk);
    let kop = op;
    if (type === 'INT64' && op === 'divide') kop = 'intDivide';
    if (type === 'INT64' && op === 'modulo') kop = ea.type === 'TIME64NS' ? 'timeModulo' : 'intModulo';
    if (op === 'floorDivide') kop = type === 'INT64' ? 'intFloorDivide' : 'floorDivide';
    if (kop === 'timeModulo') return timeModulo(a, b, ea.type, eb.type, chunk, env);
    let out = binaryNum(kop, a, b, ea.type, eb.type, chunk, env, false);
    // Two times added: each carries the base once, so the sum is one base short.
    if (op === 'add' && ea.type === 'TIME64NS' && eb.type === 'TIME64NS') out = shiftVal(out, Number(env.timeBase), chunk);
    return out;
  };
}

/** time % n on absolute time: offsets are from the base, so shift by base mod n first. */
function timeModulo(a: Val, b: Val, ta: DataType, tb: DataType, chunk: Chunk, env: EvalEnv): Val {
  const n = chunk.n;
  const x = operand(a, n, env, ta);
  const y = operand(b, n, env, tb);
  if (typeof y !== 'number' || !(y > 0)) return binaryNum('intModulo', a, b, ta, tb, chunk, env, false);
  const shift = Number(env.timeBase % BigInt(Math.trunc(y)));
  const k = binaryKernel('timeModulo', typeof x !== 'number', false);
  if (typeof x === 'number') {
    const out = new Float64Array(1);
    k.call({ y2: shift }, x, y, out, null, 1);
    return { t: 'scalar', v: out[0]! };
  }
  const out = new Float64Array(n);
  k.call({ y2: shift }, x, y, out, chunk.sel, n);
  return { t: 'num', d: out };
}

function shiftVal(v: Val, by: number, chunk: Chunk): Val {
  if (v.t === 'scalar') return { t: 'scalar', v: (v.v as number) + by };
  const d = (v as Extract<Vec, { t: 'num' }>).d;
  for (let i = 0; i < chunk.n; i++) d[i] = d[i]! + by;
  return v;
}

function compare(op: string): Impl {
  return (args, chunk, cols, env) => {
    const [ea, eb] = args as [Expr, Expr];
    const a = evalTimeAligned(ea, eb.type, chunk, cols, env);
    const b = evalTimeAligned(eb, ea.type, chunk, cols, env);
    const strA = a.t === 'str' || (a.t === 'scalar' && typeof a.v === 'string');
    const strB = b.t === 'str' || (b.t === 'scalar' && typeof b.v === 'string');
    if (strA || strB) return compareStr(op, a, b, chunk);
    const ta = ea.type === 'TIME64NS' || eb.type === 'TIME64NS' ? 'TIME64NS' : ea.type;
    return binaryNum(op, a, b, ta, ta, chunk, env, true);
  };
}

const STR_CMP: Readonly<Record<string, (x: string, y: string) => boolean>> = {
  equal: (x, y) => x === y,
  notEqual: (x, y) => x !== y,
  lessThan: (x, y) => x < y,
  lessThanEqual: (x, y) => x <= y,
  greaterThan: (x, y) => x > y,
  greaterThanEqual: (x, y) => x >= y,
};

function compareStr(op: string, a: Val, b: Val, chunk: Chunk): Val {
  const f = STR_CMP[op]!;
  if (a.t === 'scalar' && b.t === 'scalar') return { t: 'scalar', v: f(String(a.v), String(b.v)) };
  if (a.t === 'str' && b.t === 'scalar') {
    const s = String(b.v);
    return gatherBool(a, a.dict.map((x) => f(x, s)), chunk);
  }
  if (a.t === 'scalar' && b.t === 'str') {
    const s = String(a.v);
    return gatherBool(b, b.dict.map((y) => f(s, y)), chunk);
  }
  const va = a as StrVec;
  const vb = b as StrVec;
  const out = new Uint8Array(chunk.n);
  const sel = chunk.sel;
  const m = sel ? sel.length : chunk.n;
  const da = va.dict;
  const db = vb.dict;
  for (let k = 0; k < m; k++) {
    const i = sel ? sel[k]! : k;
    out[i] = f(da[va.c[i]!]!, db[vb.c[i]!]!) ? 1 : 0;
  }
  return { t: 'bool', d: out };
}

/** Expands a per-dictionary-entry boolean table to the chunk's rows. */
function gatherBool(v: StrVec, table: readonly boolean[], chunk: Chunk): Vec {
  const t = Uint8Array.from(table, (x) => (x ? 1 : 0));
  const out = new Uint8Array(chunk.n);
  const sel = chunk.sel;
  const c = v.c;
  if (sel) for (let k = 0; k < sel.length; k++) out[sel[k]!] = t[c[sel[k]!]!]!;
  else for (let i = 0; i < chunk.n; i++) out[i] = t[c[i]!]!;
  return { t: 'bool', d: out };
}

/** Expands a per-dictionary-entry number table to the chunk's rows. */
function gatherNum(v: StrVec, table: Float64Array, chunk: Chunk): Vec {
  const out = new Float64Array(chunk.n);
  const sel = chunk.sel;
  const c = v.c;
  if (sel) for (let k = 0; k < sel.length; k++) out[sel[k]!] = table[c[sel[k]!]!]!;
  else for (let i = 0; i < chunk.n; i++) out[i] = table[c[i]!]!;
  return { t: 'num', d: out };
}

/**
 * `x + y` on strings, within LIMITS.stringChars: `df.p = df.p + df.p` doubles every value with
 * each line, and the strings would exhaust the heap once anything reads them.
 */
function joined(x: string, y: string): string {
  if (x.length + y.length > LIMITS.stringChars) {
    throw new PxlError(PxlCode.limit, `'+' would build a string longer than ${LIMITS.stringChars} characters`, undefined, [
      'a column built from itself (df.p = df.p + df.p) doubles with every line',
    ]);
  }
  return x + y;
}

function concat(a: Val, b: Val, chunk: Chunk): Val {
  if (a.t === 'scalar' && b.t === 'scalar') return { t: 'scalar', v: joined(String(a.v), String(b.v)) };
  if (a.t === 'str' && b.t === 'scalar') {
    const s = String(b.v);
    return { t: 'str', c: a.c, dict: a.dict.map((x) => joined(x, s)) };
  }
  if (a.t === 'scalar' && b.t === 'str') {
    const s = String(a.v);
    return { t: 'str', c: b.c, dict: b.dict.map((y) => joined(s, y)) };
  }
  const va = a as StrVec;
  const vb = b as StrVec;
  // Each distinct (code, code) pair is concatenated once; rows share the resulting code.
  const pairs = new Map<number, number>();
  const dict: string[] = [];
  const out = new Int32Array(chunk.n);
  const width = vb.dict.length + 1;
  const sel = chunk.sel;
  const m = sel ? sel.length : chunk.n;
  for (let k = 0; k < m; k++) {
    const i = sel ? sel[k]! : k;
    const key = va.c[i]! * width + vb.c[i]!;
    let code = pairs.get(key);
    if (code === undefined) {
      code = dict.length;
      dict.push(joined(va.dict[va.c[i]!]!, vb.dict[vb.c[i]!]!));
      pairs.set(key, code);
    }
    out[i] = code;
  }
  return { t: 'str', c: out, dict };
}

function unaryNum(f: 'negate' | 'floor' | 'not'): Impl {
  return (args, chunk, cols, env) => {
    const e = args[0]!;
    const v = ev(e, chunk, cols, env);
    if (v.t === 'scalar') {
      const x = typeof v.v === 'boolean' ? (v.v ? 1 : 0) : (v.v as number);
      return { t: 'scalar', v: f === 'not' ? x === 0 : f === 'negate' ? -x : Math.floor(x) };
    }
    const n = chunk.n;
    const d = operand(v, n, env, e.type) as NumData | Uint8Array;
    const out = f === 'not' ? new Uint8Array(n) : new Float64Array(n);
    const sel = chunk.sel;
    const m = sel ? sel.length : n;
    for (let k = 0; k < m; k++) {
      const i = sel ? sel[k]! : k;
      const x = d[i]!;
      out[i] = f === 'not' ? (x === 0 ? 1 : 0) : f === 'negate' ? -x : Math.floor(x);
    }
    return f === 'not' ? { t: 'bool', d: out as Uint8Array } : { t: 'num', d: out as Float64Array };
  };
}

const bin: Impl = (args, chunk, cols, env) => {
  const [ex, es] = args as [Expr, Expr];
  const x = ev(ex, chunk, cols, env);
  const s = ev(es, chunk, cols, env);
  const n = chunk.n;
  const xo = operand(x, n, env, ex.type) as NumData | number;
  const so = operand(s, n, env, es.type) as NumData | number;
  const isTime = ex.type === 'TIME64NS';
  if (typeof so === 'number') {
    if (!(so > 0)) throw new PxlError('PXL_BAD_ARGUMENT', `px.bin: the bin size must be positive, got ${so}`);
    // Offsets are from the time base; bins are aligned on absolute time, so shift by base mod size.
    const shift = isTime ? Number(env.timeBase % BigInt(Math.trunc(so))) : 0;
    if (typeof xo === 'number') {
      const out = new Float64Array(1);
      floorToKernel(xo, so, shift, out, null, 1, false, false);
      return { t: 'scalar', v: out[0]! };
    }
    const out = new Float64Array(n);
    floorToKernel(xo, so, shift, out, chunk.sel, n, true, false);
    return { t: 'num', d: out };
  }
  const out = new Float64Array(n);
  const sel = chunk.sel;
  const m = sel ? sel.length : n;
  for (let k = 0; k < m; k++) {
    const i = sel ? sel[k]! : k;
    const size = so[i]!;
    const xv = typeof xo === 'number' ? xo : xo[i]!;
    const shift = isTime && size > 0 ? Number(env.timeBase % BigInt(Math.trunc(size))) : 0;
    out[i] = size > 0 ? xv - ((((xv + shift) % size) + size) % size) : xv;
  }
  return { t: 'num', d: out };
};

const select: Impl = (args, chunk, cols, env, type) => {
  const [ec, ea, eb] = args as [Expr, Expr, Expr];
  const c = ev(ec, chunk, cols, env);
  const a = ev(ea, chunk, cols, env);
  const b = ev(eb, chunk, cols, env);
  if (c.t === 'scalar') return c.v ? a : b;
  const cond = (c as Extract<Vec, { t: 'bool' }>).d;
  const n = chunk.n;
  const sel = chunk.sel;
  const m = sel ? sel.length : n;
  if (type === 'STRING' || type === 'UINT128') {
    const sa = asStr(a, n);
    const sb = asStr(b, n);
    // One dictionary: a's entries, then b's, so b's codes shift by a's dictionary length.
    const dict = [...sa.dict, ...sb.dict];
    const off = sa.dict.length;
    const out = new Int32Array(n);
    for (let k = 0; k < m; k++) {
      const i = sel ? sel[k]! : k;
      out[i] = cond[i] !== 0 ? sa.c[i]! : sb.c[i]! + off;
    }
    return { t: 'str', c: out, dict };
  }
  const x = operand(a, n, env, ea.type);
  const y = operand(b, n, env, eb.type);
  const out = type === 'BOOLEAN' ? new Uint8Array(n) : new Float64Array(n);
  for (let k = 0; k < m; k++) {
    const i = sel ? sel[k]! : k;
    out[i] = cond[i] !== 0 ? (typeof x === 'number' ? x : x[i]!) : typeof y === 'number' ? y : y[i]!;
  }
  return type === 'BOOLEAN' ? { t: 'bool', d: out as Uint8Array } : { t: 'num', d: out as Float64Array };
};

function asStr(v: Val, n: number): StrVec {
  if (v.t === 'str') return v;
  if (v.t === 'scalar') return { t: 'str', c: new Int32Array(n), dict: [String(v.v)] };
  throw new PxlError('PXL_INTERNAL', `executor: expected a string column, got ${v.t}`);
}

/** A string → string function applied once per dictionary entry; rows keep their codes. */
function strToStr(f: (md: MetadataView, s: string) => string): Impl {
  return (args, chunk, cols, env) => {
    const v = ev(args[0]!, chunk, cols, env);
    if (v.t === 'scalar') return { t: 'scalar', v: f(env.metadata, String(v.v)) };
    const s = asStr(v, chunk.n);
    return { t: 'str', c: s.c, dict: s.dict.map((x) => f(env.metadata, x)) };
  };
}

function strToNum(f: (md: MetadataView, s: string) => number): Impl {
  return (args, chunk, cols, env) => {
    const v = ev(args[0]!, chunk, cols, env);
    if (v.t === 'scalar') return { t: 'scalar', v: f(env.metadata, String(v.v)) };
    const s = asStr(v, chunk.n);
    return gatherNum(s, Float64Array.from(s.dict, (x) => f(env.metadata, x)), chunk);
  };
}

function scalarArg(e: Expr, chunk: Chunk, cols: ColumnIndex, env: Scoped): number | string | boolean {
  const v = ev(e, chunk, cols, env);
  if (v.t !== 'scalar') throw new PxlError('PXL_BAD_ARGUMENT', 'this argument must be a constant, not a column');
  return v.v;
}

const contains: Impl = (args, chunk, cols, env) => {
  const v = ev(args[0]!, chunk, cols, env);
  const sub = String(scalarArg(args[1]!, chunk, cols, env));
  if (v.t === 'scalar') return { t: 'scalar', v: String(v.v).includes(sub) };
  const s = asStr(v, chunk.n);
  return gatherBool(s, s.dict.map((x) => x.includes(sub)), chunk);
};

const regexMatch: Impl = (args, chunk, cols, env) => {
  // RE2 FullMatch (regex.ts), linear in each value; the planner and the engine's fragment
  // check refuse bad patterns, and, as in Pixie, one that still fails matches nothing.
  const m = patternFor(String(scalarArg(args[0]!, chunk, cols, env)));
  const test = (x: string): boolean => (typeof m === 'function' ? m(x) : false);
  const v = ev(args[1]!, chunk, cols, env);
  if (v.t === 'scalar') return { t: 'scalar', v: test(String(v.v)) };
  const s = asStr(v, chunk.n);
  return gatherBool(s, s.dict.map(test), chunk);
};

function field(o: unknown, key: string): unknown {
  return o !== null && typeof o === 'object' ? (o as Record<string, unknown>)[key] : undefined;
}

function asFloat(v: unknown): number {
  return typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
}

function asInt(v: unknown): number {
  const f = asFloat(v);
  return Number.isFinite(f) ? Math.trunc(f) : 0;
}

function asText(v: unknown): string {
  return v === undefined || v === null ? '' : typeof v === 'string' ? v : JSON.stringify(v);
}

/** pluck / pluck_float64 / pluck_int64: one JSON parse per distinct string (see parsed.ts). */
function pluckImpl(kind: 'float' | 'int' | 'text'): Impl {
  return (args, chunk, cols, env) => {
    const key = String(scalarArg(args[1]!, chunk, cols, env));
    const v = ev(args[0]!, chunk, cols, env);
    const conv = kind === 'float' ? asFloat : kind === 'int' ? asInt : asText;
    if (v.t === 'scalar') {
      let o: unknown;
      try {
        o = JSON.parse(String(v.v));
      } catch {
        o = undefined;
      }
      return { t: 'scalar', v: conv(field(o, key)) };
    }
    const s = asStr(v, chunk.n);
    const parsed = parsedDict(s.dict);
    if (kind === 'text') return { t: 'str', c: s.c, dict: parsed.map((o) => asText(field(o, key))) };
    const f = kind === 'float' ? asFloat : asInt;
    return gatherNum(s, Float64Array.from(parsed, (o) => f(field(o, key))), chunk);
  };
}

const DURATION_UNITS: Readonly<Record<string, number>> = { ns: 1, us: 1e3, µs: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9, d: 86400e9 };
const DURATION_RE = /^([-+]?)((?:\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h|d))+)$/;

/** A Go-style duration ('5m', '-1h30m', '250ms') in ns; throws a PxlError naming the text. */
export function parseDurationNs(text: string): number {
  const m = DURATION_RE.exec(text.trim());
  if (!m) throw new PxlError('PXL_BAD_ARGUMENT', `'${text}' is not a duration`, undefined, ["write e.g. '5m', '-30s', '1h30m', '250ms'"]);
  let ns = 0;
  for (const part of m[2]!.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h|d)/g)) ns += Number(part[1]) * DURATION_UNITS[part[2]!]!;
  return Math.round(m[1] === '-' ? -ns : ns);
}

/** A time: relative to now ('-5m') or RFC 3339 with up to ns precision; absolute ns. */
export function parseTimeNs(text: string, nowNs: bigint): bigint {
  const t = text.trim();
  if (/^[-+]/.test(t)) return nowNs + BigInt(parseDurationNs(t));
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/.exec(t);
  const ms = m ? Date.parse(m[1]! + m[3]!) : NaN;
  if (!m || Number.isNaN(ms)) {
    throw new PxlError('PXL_BAD_ARGUMENT', `'${text}' is not a time`, undefined, ["write a relative time like '-5m' or RFC 3339 like '2024-01-02T03:04:05Z'"]);
  }
  return BigInt(ms) * 1_000_000n + BigInt((m[2] ?? '').padEnd(9, '0'));
}

const now: Impl = (_args, _chunk, _cols, env) => ({ t: 'scalar', v: Number(env.nowNs - env.timeBase) });

const parseDuration: Impl = (args, chunk, cols, env) => {
  const v = ev(args[0]!, chunk, cols, env);
  if (v.t === 'scalar') return { t: 'scalar', v: parseDurationNs(String(v.v)) };
  const s = asStr(v, chunk.n);
  return gatherNum(s, Float64Array.from(s.dict, parseDurationNs), chunk);
};

const parseTime: Impl = (args, chunk, cols, env) => {
  const rel = (x: string): number => Number(parseTimeNs(x, env.nowNs) - env.timeBase);
  const v = ev(args[0]!, chunk, cols, env);
  if (v.t === 'scalar') return { t: 'scalar', v: rel(String(v.v)) };
  const s = asStr(v, chunk.n);
  return gatherNum(s, Float64Array.from(s.dict, rel), chunk);
};

const FUNCTIONS = new Map<string, Impl>([
  ['floorDivide', arith('floorDivide')],
  ['now', now],
  ['parse_duration', parseDuration],
  ['parse_time', parseTime],
  ['add', arith('add')],
  ['subtract', arith('subtract')],
  ['multiply', arith('multiply')],
  ['divide', arith('divide')],
  ['modulo', arith('modulo')],
  ['equal', compare('equal')],
  ['notEqual', compare('notEqual')],
  ['lessThan', compare('lessThan')],
  ['lessThanEqual', compare('lessThanEqual')],
  ['greaterThan', compare('greaterThan')],
  ['greaterThanEqual', compare('greaterThanEqual')],
  ['logicalAnd', (a, ch, c, env) => binaryNum('logicalAnd', ev(a[0]!, ch, c, env), ev(a[1]!, ch, c, env), 'BOOLEAN', 'BOOLEAN', ch, env, true)],
  ['logicalOr', (a, ch, c, env) => binaryNum('logicalOr', ev(a[0]!, ch, c, env), ev(a[1]!, ch, c, env), 'BOOLEAN', 'BOOLEAN', ch, env, true)],
  ['logicalNot', unaryNum('not')],
  ['negate', unaryNum('negate')],
  ['floor', unaryNum('floor')],
  ['bin', bin],
  ['select', select],
  ['contains', contains],
  ['regex_match', regexMatch],
  ['pluck', pluckImpl('text')],
  ['pluck_float64', pluckImpl('float')],
  ['pluck_int64', pluckImpl('int')],
  ['concat', (a, ch, c, env) => concat(ev(a[0]!, ch, c, env), ev(a[1]!, ch, c, env), ch)],
  ['upid_to_pid', strToNum(upidToPid)],
  ...[...STRING_LOOKUPS].map(([name, f]) => [name, strToStr(f)] as const),
]);
