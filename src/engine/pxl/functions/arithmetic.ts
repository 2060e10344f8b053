import type { DataType } from '../../schema.js';
import { PxlCode, PxlError, type Span } from '../diagnostic.js';
import { binaryKernel } from '../exec/kernels.js';
import type { EvalEnv } from '../exec/runtime.js';
import type { Chunk, NumData, Val, Vec } from '../exec/vec.js';
import { limitError, LIMITS } from '../plan/limits.js';
import type { Expr, LiteralValue } from '../plan/logical.js';
import { numericPairs, type FoldArg, type FunctionEntry, type ScalarCall, type Signature } from './entry.js';
import { binaryNum, operand, type StrVec } from './vectorized.js';

/*
 * Arithmetic: + - * / % // on numbers and times, unary minus, px.pow, px.floor, and + on strings.
 * INT64 arithmetic on constants is exact (bigint) and checked for overflow; on columns it runs
 * on float64, exact for the values a table holds.
 */

const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;

/** `v` when it fits in INT64; a PXL_VALUE error at `at` when it does not. */
export function checkInt(v: bigint, at: Span): bigint {
  if (v < INT64_MIN || v > INT64_MAX) throw new PxlError(PxlCode.value, 'integer overflow: the result does not fit in INT64', at);
  return v;
}

/** A numeric constant as a JS number. */
function num(c: FoldArg): number {
  return typeof c.value === 'bigint' ? Number(c.value) : (c.value as number);
}

const bothInt = (x: FoldArg, y: FoldArg): boolean => typeof x.value === 'bigint' && typeof y.value === 'bigint';

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

function arith(op: string): (c: ScalarCall) => Val {
  return ({ args, type, chunk, env, value }) => {
    const [ea, eb] = args as [Expr, Expr];
    const a = value(ea);
    const b = value(eb);
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

/** `-x`, `px.floor(x)` and `not x` over a number or boolean operand. */
export function unary(f: 'negate' | 'floor' | 'not'): (c: ScalarCall) => Val {
  return ({ args, chunk, env, value }) => {
    const e = args[0]!;
    const v = value(e);
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

function op(name: string, spelling: string, signatures: Signature[], doc: string, example: string, fold: FunctionEntry['fold'], semantic?: FunctionEntry['semantic']): FunctionEntry {
  return { name, spelling, kind: 'operator', signatures, doc, example, semantic, eval: arith(name), fold };
}

const divisor = (y: FoldArg, name: string, at: Span): void => {
  if (num(y) === 0) throw new PxlError(PxlCode.value, name === 'modulo' ? 'modulo by zero' : 'division by zero', at);
};

function foldIntegerDivision(name: 'modulo' | 'floorDivide'): FunctionEntry['fold'] {
  return ([x, y], _ret, at) => {
    divisor(y!, name, at);
    if (!bothInt(x!, y!)) return Math.floor(num(x!) / num(y!));
    const p = x!.value as bigint;
    const q = y!.value as bigint;
    if (name === 'modulo') return p % q;
    const d = p / q;
    return p % q !== 0n && p < 0n !== q < 0n ? d - 1n : d;
  };
}

/** + - * / % // and unary minus, px.pow and px.floor. */
export const ARITHMETIC: readonly FunctionEntry[] = [
  op(
    'add',
    '+',
    [...numericPairs(), { args: ['STRING', 'STRING'], ret: 'STRING' }, { args: ['TIME64NS', 'INT64'], ret: 'TIME64NS' }, { args: ['INT64', 'TIME64NS'], ret: 'TIME64NS' }],
    'Adds numbers, shifts a time by ns, or concatenates strings.',
    "df.id = df.source + '-' + df.target",
    ([x, y], ret, at): LiteralValue => {
      if (ret === 'STRING') {
        const text = String(x!.value) + String(y!.value);
        if (text.length > LIMITS.stringChars) throw limitError(`'+' would build a string longer than ${LIMITS.stringChars} characters`, at, ['a string built from itself (s = s + s) doubles with every line']);
        return text;
      }
      return bothInt(x!, y!) ? checkInt((x!.value as bigint) + (y!.value as bigint), at) : num(x!) + num(y!);
    },
    'shared',
  ),
  op(
    'subtract',
    '-',
    [...numericPairs(), { args: ['TIME64NS', 'TIME64NS'], ret: 'INT64', semantic: 'ST_DURATION_NS' }, { args: ['TIME64NS', 'INT64'], ret: 'TIME64NS' }],
    'Subtracts numbers; time minus time is a duration in ns.',
    'df.window = df.time_max - df.time_min',
    ([x, y], _ret, at) => (bothInt(x!, y!) ? checkInt((x!.value as bigint) - (y!.value as bigint), at) : num(x!) - num(y!)),
    'shared',
  ),
  op('multiply', '*', numericPairs(), 'Multiplies numbers (the result has no unit: ns × 1e9 is no longer ns).', 'df.rps = df.per_ns * 1e9', ([x, y], _ret, at) =>
    bothInt(x!, y!) ? checkInt((x!.value as bigint) * (y!.value as bigint), at) : num(x!) * num(y!),
  ),
  op(
    'divide',
    '/',
    numericPairs('FLOAT64'),
    'Divides numbers; always FLOAT64, as in Pixie.',
    'df.rps = df.count / window_ns',
    ([x, y], _ret, at) => {
      divisor(y!, 'divide', at);
      return num(x!) / num(y!);
    },
    'divide',
  ),
  op(
    'modulo',
    '%',
    [{ args: ['INT64', 'INT64'], ret: 'INT64' }, { args: ['TIME64NS', 'INT64'], ret: 'INT64' }],
    'Remainder of integer division (sign of the dividend).',
    'df.odd = df.remote_port % 2 == 1',
    foldIntegerDivision('modulo'),
  ),
  op('floorDivide', '//', numericPairs(), 'Division rounded down.', 'df.kb = df.resp_body_size // 1024', foldIntegerDivision('floorDivide')),
  {
    name: 'negate',
    spelling: '-',
    kind: 'operator',
    signatures: [{ args: ['INT64'], ret: 'INT64' }, { args: ['FLOAT64'], ret: 'FLOAT64' }],
    doc: 'Negates a number.',
    example: 'df.x = -df.latency',
    semantic: 'first',
    eval: unary('negate'),
    fold: ([x], _ret, at) => (typeof x!.value === 'bigint' ? checkInt(-x!.value, at) : -num(x!)),
  },
  {
    name: 'pow',
    spelling: 'px.pow',
    kind: 'scalar',
    signatures: numericPairs('FLOAT64').map((sig) => ({ ...sig, ret: 'FLOAT64' as const })),
    doc: 'The first argument to the power of the second, as FLOAT64.',
    example: 'df.kib = df.resp_body_size / px.pow(2, 10)',
    eval: ({ args, chunk, env, value }) => binaryNum('pow', value(args[0]!), value(args[1]!), args[0]!.type, args[1]!.type, chunk, env, false),
    fold: ([x, y]) => num(x!) ** num(y!),
  },
  {
    name: 'floor',
    spelling: 'px.floor',
    kind: 'scalar',
    signatures: [{ args: ['FLOAT64'], ret: 'FLOAT64' }, { args: ['INT64'], ret: 'INT64' }],
    doc: 'Rounds down to a whole number.',
    example: "px.floor(px.pluck_float64(df.q, 'p50'))",
    semantic: 'first',
    eval: unary('floor'),
    fold: ([x]) => (typeof x!.value === 'bigint' ? x!.value : Math.floor(num(x!))),
  },
];
