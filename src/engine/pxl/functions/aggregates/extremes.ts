import type { DataType } from '../../../schema.js';
import { decodeFloat, encodeFloat, timeOffset } from '../../cells.js';
import type { Val, Vec } from '../../exec/vec.js';
import type { AggregateImpl, FunctionEntry, Signature } from '../entry.js';
import { dense, growF64, type AggState } from './state.js';

/**
 * px.min and px.max. A partial is the value, null for a group that saw none; TIME64NS values
 * travel as absolute decimal strings, since each engine holds times as offsets from its own base.
 */
class ExtremeState implements AggState<number | null> {
  private v = new Float64Array(0);
  private readonly isMin: boolean;
  private readonly outType: DataType;
  constructor(isMin: boolean, outType: DataType) {
    this.isMin = isMin;
    this.outType = outType;
  }
  grow(n: number): void {
    this.v = growF64(this.v, n, this.isMin ? Infinity : -Infinity);
  }
  update(gids: Int32Array, sel: Int32Array | null, arg: Val): void {
    const v = this.v;
    const d = dense(arg, sel, gids.length);
    if (this.isMin) {
      for (let k = 0; k < gids.length; k++) {
        const g = gids[k]!;
        if (d[k]! < v[g]!) v[g] = d[k]!;
      }
    } else {
      for (let k = 0; k < gids.length; k++) {
        const g = gids[k]!;
        if (d[k]! > v[g]!) v[g] = d[k]!;
      }
    }
  }
  partial(g: number): number | null {
    const x = this.v[g]!;
    return Number.isFinite(x) ? x : null;
  }
  merge(g: number, p: number | null): void {
    if (p === null) return;
    if (this.isMin ? p < this.v[g]! : p > this.v[g]!) this.v[g] = p;
  }
  finalize(n: number): Vec {
    const d = this.v.slice(0, n);
    if (this.outType === 'BOOLEAN') return { t: 'bool', d: Uint8Array.from(d) };
    return { t: 'num', d };
  }
}

/** A value of min, max or any on the wire: TIME64NS absolute from the engine's base, floats exact. */
export function encodeValue(p: unknown, argType: DataType, base: bigint): unknown {
  if (argType === 'TIME64NS' && typeof p === 'number') return (base + BigInt(Math.trunc(p))).toString();
  return typeof p === 'number' ? encodeFloat(p) : p;
}

function impl(isMin: boolean): AggregateImpl {
  return {
    create: (_argType, outType) => new ExtremeState(isMin, outType),
    encode: encodeValue,
    decode: (v, argType, base) => (v === null ? null : argType === 'TIME64NS' ? timeOffset(v, base) : decodeFloat(v)),
  };
}

const SIGNATURES: Signature[] = [
  { args: ['INT64'], ret: 'INT64' },
  { args: ['FLOAT64'], ret: 'FLOAT64' },
  { args: ['TIME64NS'], ret: 'TIME64NS' },
];

/** px.min. */
export const MIN: FunctionEntry = {
  name: 'min',
  spelling: 'px.min',
  kind: 'aggregate',
  signatures: SIGNATURES,
  doc: 'Smallest value.',
  example: "time_min=('time_', px.min)",
  mergeable: true,
  semantic: 'first',
  agg: impl(true),
};

/** px.max. */
export const MAX: FunctionEntry = {
  name: 'max',
  spelling: 'px.max',
  kind: 'aggregate',
  signatures: SIGNATURES,
  doc: 'Largest value.',
  example: "time_max=('time_', px.max)",
  mergeable: true,
  semantic: 'first',
  agg: impl(false),
};
