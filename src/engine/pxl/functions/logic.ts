import type { DataType } from '../../schema.js';
import { toNum, type Chunk, type Val, type Vec } from '../exec/vec.js';
import type { Expr } from '../plan/logical.js';
import { unary } from './arithmetic.js';
import { ALL_TYPES, numericPairs, type FoldArg, type FunctionEntry, type ScalarCall, type Signature } from './entry.js';
import { asStr, binaryNum, gatherBool, operand, timeLiteral, type StrVec } from './vectorized.js';

/*
 * Comparisons (== != < <= > >=), `and`, `or`, `not`, and px.select. Strings compare per
 * dictionary entry; a number compared with a time is absolute ns, rebased like the time.
 */

function comparisons(ordered: boolean): Signature[] {
  const sigs: Signature[] = [
    ...numericPairs('BOOLEAN').map((s) => ({ ...s, ret: 'BOOLEAN' as const })),
    { args: ['STRING', 'STRING'], ret: 'BOOLEAN' },
    { args: ['TIME64NS', 'TIME64NS'], ret: 'BOOLEAN' },
    { args: ['TIME64NS', 'INT64'], ret: 'BOOLEAN' },
    { args: ['INT64', 'TIME64NS'], ret: 'BOOLEAN' },
  ];
  if (!ordered) sigs.push({ args: ['BOOLEAN', 'BOOLEAN'], ret: 'BOOLEAN' }, { args: ['UINT128', 'UINT128'], ret: 'BOOLEAN' });
  return sigs;
}

/**
 * An argument as a TIME64NS offset when the other side of a comparison is a time: an
 * INT64/FLOAT64 literal is absolute ns, so it is rebased exactly as a bigint.
 */
function timeAligned(call: ScalarCall, e: Expr, other: DataType): Val {
  const { chunk, env } = call;
  if (other !== 'TIME64NS' || e.type === 'TIME64NS' || (e.type !== 'INT64' && e.type !== 'FLOAT64')) return call.value(e);
  if (e.kind === 'literal') return timeLiteral(e.value, env);
  const v = call.value(e);
  if (v.t === 'scalar') return { t: 'scalar', v: (v.v as number) - Number(env.timeBase) };
  const d = toNum(v, chunk.n, env.timeBase, false);
  const out = new Float64Array(chunk.n);
  const shift = Number(env.timeBase);
  for (let i = 0; i < chunk.n; i++) out[i] = d[i]! - shift;
  return { t: 'num', d: out };
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

function compare(op: string): (c: ScalarCall) => Val {
  return (call) => {
    const [ea, eb] = call.args as [Expr, Expr];
    const a = timeAligned(call, ea, eb.type);
    const b = timeAligned(call, eb, ea.type);
    const strA = a.t === 'str' || (a.t === 'scalar' && typeof a.v === 'string');
    const strB = b.t === 'str' || (b.t === 'scalar' && typeof b.v === 'string');
    if (strA || strB) return compareStr(op, a, b, call.chunk);
    const ta = ea.type === 'TIME64NS' || eb.type === 'TIME64NS' ? 'TIME64NS' : ea.type;
    return binaryNum(op, a, b, ta, ta, call.chunk, call.env, true);
  };
}

/** Orders two constants: numbers numerically (bigints exactly), strings by code unit, false < true. */
function order(a: FoldArg, b: FoldArg): number {
  if (typeof a.value === 'bigint' && typeof b.value === 'bigint') return a.value < b.value ? -1 : a.value > b.value ? 1 : 0;
  if (typeof a.value === 'string' && typeof b.value === 'string') return a.value < b.value ? -1 : a.value > b.value ? 1 : 0;
  if (typeof a.value === 'boolean') return Number(a.value) - Number(b.value);
  const x = Number(a.value);
  const y = Number(b.value);
  return x < y ? -1 : x > y ? 1 : x === y ? 0 : NaN;
}

function comparison(name: string, spelling: string, ordered: boolean, doc: string, example: string, holds: (c: number) => boolean): FunctionEntry {
  return { name, spelling, kind: 'operator', signatures: comparisons(ordered), doc, example, eval: compare(name), fold: ([x, y]) => holds(order(x!, y!)) };
}

function logical(name: 'logicalAnd' | 'logicalOr', spelling: string, doc: string, example: string): FunctionEntry {
  return {
    name,
    spelling,
    kind: 'operator',
    signatures: [{ args: ['BOOLEAN', 'BOOLEAN'], ret: 'BOOLEAN' }],
    doc,
    example,
    eval: ({ args, chunk, env, value }) => binaryNum(name, value(args[0]!), value(args[1]!), 'BOOLEAN', 'BOOLEAN', chunk, env, true),
    fold: ([x, y]) => (name === 'logicalAnd' ? x!.value === true && y!.value === true : x!.value === true || y!.value === true),
  };
}

function select({ args, type, chunk, env, value }: ScalarCall): Val {
  const [ec, ea, eb] = args as [Expr, Expr, Expr];
  const c = value(ec);
  const a = value(ea);
  const b = value(eb);
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
}

/** Comparisons, and, or, not, and px.select. */
export const LOGIC: readonly FunctionEntry[] = [
  comparison('equal', '==', false, 'True where both sides are equal.', "df[df.req_method == 'GET']", (c) => c === 0),
  comparison('notEqual', '!=', false, 'True where the sides differ.', "df[df.service != '']", (c) => c !== 0),
  comparison('lessThan', '<', true, 'True where the left side is smaller.', 'df[df.resp_status < 400]', (c) => c < 0),
  comparison('lessThanEqual', '<=', true, 'True where the left side is smaller or equal.', 'df[df.resp_status <= 399]', (c) => c <= 0),
  comparison('greaterThan', '>', true, 'True where the left side is larger.', 'df[df.latency > 1000000]', (c) => c > 0),
  comparison('greaterThanEqual', '>=', true, 'True where the left side is larger or equal.', 'df.failure = df.resp_status >= 400', (c) => c >= 0),
  logical('logicalAnd', 'and', 'True where both conditions hold.', 'df[df.a and df.b]'),
  logical('logicalOr', 'or', 'True where either condition holds.', 'df[df.a or df.b]'),
  {
    name: 'logicalNot',
    spelling: 'not',
    kind: 'operator',
    signatures: [{ args: ['BOOLEAN'], ret: 'BOOLEAN' }],
    doc: 'Negates a condition.',
    example: 'df[not df.failure]',
    eval: unary('not'),
    fold: ([x]) => x!.value !== true,
  },
  {
    name: 'select',
    spelling: 'px.select',
    kind: 'scalar',
    signatures: ALL_TYPES.map((t) => ({ args: ['BOOLEAN', t, t], ret: t })),
    doc: 'Per row: the second argument where the condition holds, else the third.',
    example: 'px.select(df.resp_status >= 400, 1, 0)',
    semantic: 'shared',
    eval: select,
    fold: ([c, a, b]) => (c!.value === true ? a!.value : b!.value),
  },
];
