import type { DataType } from '../../schema.js';
import { PxlError } from '../diagnostic.js';
import { binaryKernel } from '../exec/kernels.js';
import type { EvalEnv } from '../exec/runtime.js';
import { toNum, type Chunk, type NumData, type Val, type Vec } from '../exec/vec.js';
import type { Expr } from '../plan/logical.js';
import type { ScalarCall } from './entry.js';

/*
 * What the scalar implementations share: operands as typed arrays, the kernels applied to them,
 * and per-dictionary-entry tables expanded to rows (a string function runs once per distinct
 * string, never once per row).
 */

/** A dictionary-coded string column. */
export type StrVec = Extract<Vec, { t: 'str' }>;

type Operand = NumData | Uint8Array | number;

/** A value as a kernel operand: a typed array of the chunk's rows, or one number. */
export function operand(v: Val, n: number, env: EvalEnv, type: DataType): Operand {
  if (v.t === 'scalar') return typeof v.v === 'boolean' ? (v.v ? 1 : 0) : (v.v as number);
  if (v.t === 'bool') return v.d;
  return toNum(v, n, env.timeBase, type === 'TIME64NS');
}

/** `a op b` through a kernel of kernels.ts: numbers, or booleans (0/1) when `bool`. */
export function binaryNum(op: string, a: Val, b: Val, ta: DataType, tb: DataType, chunk: Chunk, env: EvalEnv, bool: boolean): Val {
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

/** A TIME64NS literal (absolute ns) as an offset from the query's time base, exactly. */
export function timeLiteral(value: boolean | bigint | number | string, env: EvalEnv): Val {
  const abs = typeof value === 'bigint' ? value : BigInt(Math.trunc(Number(value)));
  return { t: 'scalar', v: Number(abs - env.timeBase) };
}

/** Expands a per-dictionary-entry boolean table to the chunk's rows. */
export function gatherBool(v: StrVec, table: readonly boolean[], chunk: Chunk): Vec {
  const t = Uint8Array.from(table, (x) => (x ? 1 : 0));
  const out = new Uint8Array(chunk.n);
  const sel = chunk.sel;
  const c = v.c;
  if (sel) for (let k = 0; k < sel.length; k++) out[sel[k]!] = t[c[sel[k]!]!]!;
  else for (let i = 0; i < chunk.n; i++) out[i] = t[c[i]!]!;
  return { t: 'bool', d: out };
}

/** Expands a per-dictionary-entry number table to the chunk's rows. */
export function gatherNum(v: StrVec, table: Float64Array, chunk: Chunk): Vec {
  const out = new Float64Array(chunk.n);
  const sel = chunk.sel;
  const c = v.c;
  if (sel) for (let k = 0; k < sel.length; k++) out[sel[k]!] = table[c[sel[k]!]!]!;
  else for (let i = 0; i < chunk.n; i++) out[i] = table[c[i]!]!;
  return { t: 'num', d: out };
}

/** A string value as a dictionary-coded column (a constant: one entry every row reads). */
export function asStr(v: Val, n: number): StrVec {
  if (v.t === 'str') return v;
  if (v.t === 'scalar') return { t: 'str', c: new Int32Array(n), dict: [String(v.v)] };
  throw new PxlError('PXL_INTERNAL', `executor: expected a string column, got ${v.t}`);
}

/** The value of an argument that must be a constant (a pattern, a JSON key). */
export function constantArg(call: ScalarCall, e: Expr): number | string | boolean {
  const v = call.value(e);
  if (v.t !== 'scalar') throw new PxlError('PXL_BAD_ARGUMENT', 'this argument must be a constant, not a column');
  return v.v;
}

/** A string → string function applied once per dictionary entry; rows keep their codes. */
export function perString(f: (s: string) => string, call: ScalarCall, arg: Expr): Val {
  const v = call.value(arg);
  if (v.t === 'scalar') return { t: 'scalar', v: f(String(v.v)) };
  const s = asStr(v, call.chunk.n);
  return { t: 'str', c: s.c, dict: s.dict.map(f) };
}

/** A string → number function applied once per dictionary entry, then read per row. */
export function perStringNum(f: (s: string) => number, call: ScalarCall, arg: Expr): Val {
  const v = call.value(arg);
  if (v.t === 'scalar') return { t: 'scalar', v: f(String(v.v)) };
  const s = asStr(v, call.chunk.n);
  return gatherNum(s, Float64Array.from(s.dict, f), call.chunk);
}

/** What `perStrings` computed: one value for every row, or a value per row as codes into distinct values. */
export type PerStrings<T> = { readonly scalar: T } | { readonly codes: Int32Array; readonly values: readonly T[] };

/**
 * `f` over the string arguments of each row, computed once per distinct combination of their
 * dictionary entries (a constant is one entry every row shares), so a function of a column and
 * constants runs once per distinct string, never once per row.
 */
export function perStrings<T>(call: ScalarCall, args: readonly Expr[], f: (xs: readonly string[]) => T): PerStrings<T> {
  const vals = args.map((a) => call.value(a));
  const cols = vals.map((v, i) => (v.t === 'scalar' ? -1 : i)).filter((i) => i >= 0);
  const consts = vals.map((v) => (v.t === 'scalar' ? String(v.v) : ''));
  if (cols.length === 0) return { scalar: f(consts) };
  const n = call.chunk.n;
  const strs = cols.map((i) => asStr(vals[i]!, n));
  const codes = new Int32Array(n);
  const values: T[] = [];
  const seen = new Map<string, number>();
  const xs = [...consts];
  const sel = call.chunk.sel;
  const m = sel ? sel.length : n;
  for (let k = 0; k < m; k++) {
    const i = sel ? sel[k]! : k;
    let key = '';
    for (let j = 0; j < strs.length; j++) key += `${strs[j]!.c[i]!},`;
    let code = seen.get(key);
    if (code === undefined) {
      for (let j = 0; j < strs.length; j++) xs[cols[j]!] = strs[j]!.dict[strs[j]!.c[i]!]!;
      code = values.length;
      values.push(f(xs));
      seen.set(key, code);
    }
    codes[i] = code;
  }
  return { codes, values };
}

/** `perStrings` with a string result, as a dictionary-coded column. */
export function stringsToStr(r: PerStrings<string>): Val {
  return 'scalar' in r ? { t: 'scalar', v: r.scalar } : { t: 'str', c: r.codes, dict: r.values };
}

/** `perStrings` with a boolean result. */
export function stringsToBool(r: PerStrings<boolean>, chunk: Chunk): Val {
  if ('scalar' in r) return { t: 'scalar', v: r.scalar };
  return gatherBool({ t: 'str', c: r.codes, dict: [] }, r.values, chunk);
}
