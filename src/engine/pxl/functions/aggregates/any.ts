import type { DataType } from '../../../schema.js';
import { decodeFloat, timeOffset } from '../../cells.js';
import type { Val, Vec } from '../../exec/vec.js';
import { ALL_TYPES, type FunctionEntry } from '../entry.js';
import { encodeValue } from './extremes.js';
import { growF64, type AggState } from './state.js';

/** px.any. A partial is one value of the group (null: none yet), on the wire as min's and max's. */
type AnyPartial = number | string | boolean | null;

class AnyState implements AggState<AnyPartial> {
  private has = new Uint8Array(0);
  private nums = new Float64Array(0);
  private strs: string[] = [];
  private readonly outType: DataType;
  constructor(outType: DataType) {
    this.outType = outType;
  }
  grow(n: number): void {
    if (this.has.length >= n) return;
    const h = new Uint8Array(Math.max(n, this.has.length * 2));
    h.set(this.has);
    this.has = h;
    this.nums = growF64(this.nums, h.length);
  }
  update(gids: Int32Array, sel: Int32Array | null, arg: Val): void {
    const has = this.has;
    for (let k = 0; k < gids.length; k++) {
      const g = gids[k]!;
      if (has[g]) continue;
      has[g] = 1;
      const i = sel ? sel[k]! : k;
      if (arg.t === 'str') this.strs[g] = arg.dict[arg.c[i]!]!;
      else if (arg.t === 'scalar') {
        if (typeof arg.v === 'string') this.strs[g] = arg.v;
        else this.nums[g] = typeof arg.v === 'boolean' ? (arg.v ? 1 : 0) : arg.v;
      } else this.nums[g] = arg.t === 'big' ? Number(arg.d[i]!) : arg.d[i]!;
    }
  }
  partial(g: number): AnyPartial {
    if (!this.has[g]) return null;
    if (this.outType === 'STRING' || this.outType === 'UINT128') return this.strs[g]!;
    if (this.outType === 'BOOLEAN') return this.nums[g] === 1;
    return this.nums[g]!;
  }
  merge(g: number, p: AnyPartial): void {
    if (p === null || this.has[g]) return;
    this.has[g] = 1;
    if (typeof p === 'string') this.strs[g] = p;
    else this.nums[g] = typeof p === 'boolean' ? (p ? 1 : 0) : p;
  }
  finalize(n: number): Vec {
    if (this.outType === 'STRING' || this.outType === 'UINT128') {
      const dict = Array.from({ length: n }, (_, g) => this.strs[g] ?? '');
      return { t: 'str', c: Int32Array.from({ length: n }, (_, g) => g), dict };
    }
    if (this.outType === 'BOOLEAN') return { t: 'bool', d: Uint8Array.from(this.nums.subarray(0, n)) };
    return { t: 'num', d: this.nums.slice(0, n) };
  }
}

/** px.any. */
export const ANY: FunctionEntry = {
  name: 'any',
  spelling: 'px.any',
  kind: 'aggregate',
  signatures: ALL_TYPES.map((t) => ({ args: [t], ret: t })),
  doc: 'Any one value of the group.',
  example: "pod=('pod', px.any)",
  mergeable: true,
  semantic: 'first',
  agg: {
    create: (_argType, outType) => new AnyState(outType),
    encode: encodeValue,
    decode: (v, argType, base): AnyPartial => {
      if (v === null || typeof v === 'boolean') return v;
      if (argType === 'TIME64NS') return timeOffset(v, base);
      if (argType === 'STRING' || argType === 'UINT128') return String(v);
      return decodeFloat(v);
    },
  },
};
