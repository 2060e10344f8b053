import { PxlError } from '../../diagnostic.js';
import type { Val, Vec } from '../../exec/vec.js';

/**
 * The grouped state of one aggregate over many groups (struct of arrays, indexed by group id).
 * It splits into the halves a broker needs: `partial(g)` is a JSON-safe value for one group,
 * `merge(g, p)` folds such a value in, `finalize(n)` produces the output column.
 */
export interface AggState<P> {
  /** Makes room for groups `0..n-1`. */
  grow(n: number): void;
  /** Folds live rows in: `gids[k]` is the group of the k-th live row (`sel[k]`, or k). */
  update(gids: Int32Array, sel: Int32Array | null, arg: Val): void;
  partial(g: number): P;
  merge(g: number, p: P): void;
  finalize(n: number): Vec;
  /**
   * Optional: gives the state's large buffers back for reuse by later queries. The state must
   * not be used afterwards; the executor calls it once the output column is finalized.
   */
  release?(): void;
}

/** A float64 array of at least `n` entries, `a`'s first and the rest `fill`. */
export function growF64(a: Float64Array<ArrayBuffer>, n: number, fill = 0): Float64Array<ArrayBuffer> {
  if (a.length >= n) return a;
  let cap = Math.max(a.length * 2, 16);
  while (cap < n) cap *= 2;
  const b = new Float64Array(cap);
  if (fill !== 0) b.fill(fill);
  b.set(a);
  return b;
}

let scratch = new Float64Array(16384);

/**
 * The argument's values of the live rows, densely in selection order, as float64 (booleans
 * 0/1, a constant repeated): a dense float64 argument as it is, anything else copied into
 * shared scratch space valid until the next call. The update loops then read one array type
 * with no selection branch; they only read it.
 */
export function dense(arg: Val, sel: Int32Array | null, m: number): Float64Array {
  const d = numbers(arg);
  if (!sel && d instanceof Float64Array) return d.length === m ? d : d.subarray(0, m);
  if (scratch.length < m) scratch = new Float64Array(m);
  const out = scratch.subarray(0, m);
  if (typeof d === 'number') out.fill(d);
  else if (sel) for (let k = 0; k < m; k++) out[k] = d[sel[k]!]!;
  else for (let k = 0; k < m; k++) out[k] = d[k]!;
  return out;
}

/** The numbers of an argument (booleans as 0/1, scalars broadcast by the callers). */
function numbers(arg: Val): Float64Array | Int32Array | Uint8Array | number {
  if (arg.t === 'scalar') return typeof arg.v === 'boolean' ? (arg.v ? 1 : 0) : Number(arg.v);
  if (arg.t === 'num' || arg.t === 'bool') return arg.d;
  if (arg.t === 'big') return Float64Array.from(arg.d, Number);
  throw new PxlError('PXL_BAD_ARGUMENT', 'this aggregate needs a numeric column, not a string');
}
