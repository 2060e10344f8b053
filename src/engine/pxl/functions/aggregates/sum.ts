import { decodeFloat, encodeFloat } from '../../cells.js';
import type { Val, Vec } from '../../exec/vec.js';
import type { FunctionEntry } from '../entry.js';
import { dense, growF64, type AggState } from './state.js';

/**
 * px.sum. Its partial is a number, or a decimal string once an INT64 sum left the safe range
 * (exact either way); non-finite FLOAT64 sums travel as "NaN"/"±Infinity".
 */
type SumPartial = number | string;

class FloatSumState implements AggState<SumPartial> {
  private s = new Float64Array(0);
  grow(n: number): void {
    this.s = growF64(this.s, n);
  }
  update(gids: Int32Array, sel: Int32Array | null, arg: Val): void {
    const s = this.s;
    const x = dense(arg, sel, gids.length);
    for (let k = 0; k < gids.length; k++) s[gids[k]!] += x[k]!;
  }
  partial(g: number): SumPartial {
    return this.s[g]!;
  }
  merge(g: number, p: SumPartial): void {
    this.s[g] += Number(p);
  }
  finalize(n: number): Vec {
    return { t: 'num', d: this.s.slice(0, n) };
  }
}

/** Beyond this magnitude a running sum is moved into the group's bigint carry. */
const CARRY = 2 ** 51;

/** INT64 sum, exact at any size: a float64 running sum plus a bigint carry per group. */
class IntSumState implements AggState<SumPartial> {
  private s = new Float64Array(0);
  private carry = new Map<number, bigint>();
  grow(n: number): void {
    this.s = growF64(this.s, n);
  }
  update(gids: Int32Array, sel: Int32Array | null, arg: Val): void {
    const s = this.s;
    if (arg.t === 'big') {
      for (let k = 0; k < gids.length; k++) this.addBig(gids[k]!, arg.d[sel ? sel[k]! : k]!);
      return;
    }
    const d = dense(arg, sel, gids.length);
    for (let k = 0; k < gids.length; k++) {
      const g = gids[k]!;
      const v = d[k]!;
      const x = s[g]! + v;
      if (x < CARRY && x > -CARRY && v < CARRY && v > -CARRY) s[g] = x;
      else this.addBig(g, BigInt(v));
    }
  }
  private addBig(g: number, v: bigint): void {
    const x = this.s[g]!;
    this.s[g] = 0;
    this.carry.set(g, (this.carry.get(g) ?? 0n) + BigInt(x) + v);
  }
  private exact(g: number): bigint | number {
    const c = this.carry.get(g);
    return c === undefined ? this.s[g]! : c + BigInt(this.s[g]!);
  }
  partial(g: number): SumPartial {
    const v = this.exact(g);
    return typeof v === 'bigint' ? v.toString() : v;
  }
  merge(g: number, p: SumPartial): void {
    if (typeof p === 'string') this.addBig(g, BigInt(p));
    else if (p < CARRY && p > -CARRY) this.update(Int32Array.of(g), null, { t: 'scalar', v: p });
    else this.addBig(g, BigInt(p));
  }
  finalize(n: number): Vec {
    if (this.carry.size === 0) return { t: 'num', d: this.s.slice(0, n) };
    const d = new BigInt64Array(n);
    for (let g = 0; g < n; g++) d[g] = BigInt.asIntN(64, BigInt(this.exact(g)));
    return { t: 'big', d };
  }
}

/** px.sum. */
export const SUM: FunctionEntry = {
  name: 'sum',
  spelling: 'px.sum',
  kind: 'aggregate',
  signatures: [
    { args: ['INT64'], ret: 'INT64' },
    { args: ['FLOAT64'], ret: 'FLOAT64' },
    { args: ['BOOLEAN'], ret: 'INT64' },
  ],
  doc: 'Sum of the values (True counts 1).',
  example: "errors=('failure', px.sum)",
  mergeable: true,
  semantic: 'first',
  agg: {
    create: (argType, outType) => (argType === 'FLOAT64' || outType === 'FLOAT64' ? new FloatSumState() : new IntSumState()),
    encode: (p) => (typeof p === 'number' ? encodeFloat(p) : p),
    decode: (v): SumPartial => (typeof v === 'string' && /^-?\d+$/.test(v) ? v : decodeFloat(v)),
  },
};
