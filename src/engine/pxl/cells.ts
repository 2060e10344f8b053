/*
 * Values as exact JSON (docs/api.md): FLOAT64 as numbers, the non-finite ones as the strings
 * "NaN", "Infinity" and "-Infinity"; TIME64NS as absolute decimal strings. Shared by the wire
 * between broker and engines (distributed/wire/cells.ts) and the aggregates' partial states.
 */

/** A float as JSON: non-finite values as strings. */
export function encodeFloat(x: number): number | string {
  return Number.isFinite(x) ? x : x !== x ? 'NaN' : x > 0 ? 'Infinity' : '-Infinity';
}

/** The inverse of encodeFloat (numbers pass, the three strings parse, anything else is NaN). */
export function decodeFloat(x: unknown): number {
  if (typeof x === 'number') return x;
  if (x === 'Infinity') return Infinity;
  if (x === '-Infinity') return -Infinity;
  return NaN;
}

/** A TIME64NS decimal string as a float offset from `base` (exact within 2^53 ns of it). */
export function timeOffset(cell: unknown, base: bigint): number {
  return typeof cell === 'string' && /^-?\d+$/.test(cell) ? Number(BigInt(cell) - base) : NaN;
}
