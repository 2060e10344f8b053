import type { DataType } from '../../schema.js';
import type { AnyPartial, CountPartial, ExtremePartial, MeanPartial, QuantilesPartial, SumPartial } from '../exec/aggregates.js';
import { decodeFloat, encodeFloat, timeOffset } from './columns.js';

/**
 * Partial aggregate states on the wire (docs/broker.md, "What each aggregate sends"). The
 * states come from `AggState.partial(g)` in exec/aggregates.ts and go back in through
 * `AggState.merge(g, p)`; this file only makes them JSON-exact:
 * - count: the row count (a number; exact below 2^53);
 * - sum: a number, or a decimal string once an INT64 sum left the safe range (exact), non-finite
 *   FLOAT64 sums as "NaN"/"±Infinity";
 * - mean: `{sum, count}`;
 * - min/max/any: the value; TIME64NS values as absolute decimal strings, since each engine
 *   holds times as offsets from its own base;
 * - quantiles: the DDSketch buckets `{posOffset, pos, negOffset, neg, zero, count, min, max}`,
 *   merged by adding bucket counts, so the merged sketch is the one a single node would build.
 */

/** A partial as JSON, for engine `base` (its TIME64NS offsets' origin). */
export function encodePartial(fn: string, argType: DataType, p: unknown, base: bigint): unknown {
  switch (fn) {
    case 'sum':
      return typeof p === 'number' ? encodeFloat(p) : p;
    case 'mean': {
      const m = p as MeanPartial;
      return { sum: encodeFloat(m.sum), count: m.count };
    }
    case 'min':
    case 'max':
    case 'any':
      if (argType === 'TIME64NS' && typeof p === 'number') return (base + BigInt(Math.trunc(p))).toString();
      return typeof p === 'number' ? encodeFloat(p) : p;
    case 'quantiles': {
      const q = p as QuantilesPartial;
      return { ...q, min: q.count > 0 ? q.min : null, max: q.count > 0 ? q.max : null };
    }
    default:
      return p;
  }
}

function nums(v: unknown): number[] {
  return Array.isArray(v) ? v.map((x) => (typeof x === 'number' && x >= 0 ? x : 0)) : [];
}

function int(v: unknown): number {
  return typeof v === 'number' && Number.isInteger(v) ? v : 0;
}

/**
 * The inverse of encodePartial, for the broker with TIME64NS offsets from its own `base`.
 * Malformed values decode to the aggregate's neutral element rather than poisoning the merge.
 */
export function decodePartial(fn: string, argType: DataType, v: unknown, base: bigint): unknown {
  switch (fn) {
    case 'count':
      return (typeof v === 'number' ? v : 0) satisfies CountPartial;
    case 'sum':
      if (typeof v === 'string' && /^-?\d+$/.test(v)) return v satisfies SumPartial;
      return decodeFloat(v) satisfies SumPartial;
    case 'mean': {
      const o = (typeof v === 'object' && v !== null ? v : {}) as Record<string, unknown>;
      return { sum: decodeFloat(o['sum']), count: typeof o['count'] === 'number' ? o['count'] : 0 } satisfies MeanPartial;
    }
    case 'min':
    case 'max':
      if (v === null) return null satisfies ExtremePartial;
      return (argType === 'TIME64NS' ? timeOffset(v, base) : decodeFloat(v)) satisfies ExtremePartial;
    case 'any':
      if (v === null || typeof v === 'boolean') return v satisfies AnyPartial;
      if (argType === 'TIME64NS') return timeOffset(v, base) satisfies AnyPartial;
      if (argType === 'STRING' || argType === 'UINT128') return String(v) satisfies AnyPartial;
      return decodeFloat(v) satisfies AnyPartial;
    case 'quantiles': {
      const o = (typeof v === 'object' && v !== null ? v : {}) as Record<string, unknown>;
      const count = typeof o['count'] === 'number' ? o['count'] : 0;
      return {
        posOffset: int(o['posOffset']),
        pos: nums(o['pos']),
        negOffset: int(o['negOffset']),
        neg: nums(o['neg']),
        zero: typeof o['zero'] === 'number' ? o['zero'] : 0,
        count,
        min: typeof o['min'] === 'number' ? o['min'] : Infinity,
        max: typeof o['max'] === 'number' ? o['max'] : -Infinity,
      } satisfies QuantilesPartial;
    }
    default:
      return v;
  }
}
