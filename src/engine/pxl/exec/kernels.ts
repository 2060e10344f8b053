/**
 * Element-wise kernels over typed arrays. Each kernel is built once per (operation, which
 * operands are columns) from the fixed templates below — never from script text — so its
 * loop is monomorphic and allocation-free. The selection variant touches only live rows.
 */

type Operand = Float64Array | Int32Array | Uint8Array | number;
type Out = Float64Array | Uint8Array;
/** A compiled loop: writes `out[i] = f(a[i], b[i])` for live rows. */
export type BinaryKernel = (a: Operand, b: Operand, out: Out, sel: Int32Array | null, n: number) => void;

/** Numeric templates over `x` and `y`; results stored in a Float64Array. */
export const NUM_TEMPLATES: Readonly<Record<string, string>> = {
  add: 'x + y',
  subtract: 'x - y',
  multiply: 'x * y',
  divide: 'x / y',
  intDivide: 'y === 0 ? 0 : Math.trunc(x / y)',
  modulo: 'x % y',
  intModulo: 'y === 0 ? 0 : x % y',
  timeModulo: '(x + y2) - Math.floor((x + y2) / y) * y',
  floorDivide: 'Math.floor(x / y)',
  pow: 'x ** y',
  intFloorDivide: 'y === 0 ? 0 : Math.floor(x / y)',
  // Division, not %, which is a slow fmod call on doubles; exact for |x + y2| < 2^53.
  floorTo: 'Math.floor((x + y2) / y) * y - y2',
};

/** Boolean templates; results stored as 0/1 in a Uint8Array. */
export const BOOL_TEMPLATES: Readonly<Record<string, string>> = {
  equal: 'x === y',
  notEqual: 'x !== y',
  lessThan: 'x < y',
  lessThanEqual: 'x <= y',
  greaterThan: 'x > y',
  greaterThanEqual: 'x >= y',
  logicalAnd: 'x !== 0 && y !== 0',
  logicalOr: 'x !== 0 || y !== 0',
};

const cache = new Map<string, BinaryKernel>();

/**
 * The kernel for a template; `aVec`/`bVec` say whether each operand is a column (else a
 * constant). Templates reading a second constant (`y2`) take it from the call's `this`.
 */
export function binaryKernel(op: string, aVec: boolean, bVec: boolean): BinaryKernel {
  const key = `${op}|${aVec ? 1 : 0}|${bVec ? 1 : 0}`;
  let k = cache.get(key);
  if (k) return k;
  const num = NUM_TEMPLATES[op];
  const bool = BOOL_TEMPLATES[op];
  const tpl = num ?? bool;
  if (tpl === undefined) throw new Error(`no kernel template ${op}`);
  const expr = num !== undefined ? tpl : `(${tpl}) ? 1 : 0`;
  const xa = aVec ? 'a[i]' : 'a';
  const yb = bVec ? 'b[i]' : 'b';
  const body = `'use strict';
    const y2 = this === undefined ? 0 : this.y2;
    if (sel !== null) {
      for (let k = 0; k < sel.length; k++) { const i = sel[k]; const x = ${xa}; const y = ${yb}; out[i] = ${expr}; }
    } else {
      for (let i = 0; i < n; i++) { const x = ${xa}; const y = ${yb}; out[i] = ${expr}; }
    }`;
  // Built from the fixed templates above only; no script text reaches this constructor.
  k = new Function('a', 'b', 'out', 'sel', 'n', body) as BinaryKernel;
  cache.set(key, k);
  return k;
}

/** Runs `floorTo` (bin): floor((x + shift) / size) * size - shift, `shift` aligning offsets to absolute time. */
export function floorToKernel(a: Operand, size: Operand, shift: number, out: Float64Array, sel: Int32Array | null, n: number, aVec: boolean, bVec: boolean): void {
  binaryKernel('floorTo', aVec, bVec).call({ y2: shift }, a, size, out, sel, n);
}

/** Writes `filter` rows whose mask is set into a new selection. */
export function maskToSelection(mask: Uint8Array, sel: Int32Array | null, n: number): Int32Array {
  const m = sel ? sel.length : n;
  const out = new Int32Array(m);
  let o = 0;
  if (sel) {
    for (let k = 0; k < m; k++) {
      const i = sel[k]!;
      if (mask[i] !== 0) out[o++] = i;
    }
  } else {
    for (let i = 0; i < n; i++) if (mask[i] !== 0) out[o++] = i;
  }
  return o === m ? out : out.slice(0, o);
}
