import type { SemanticType } from '../../schema.js';
import { NUMERIC, type FunctionEntry } from './entry.js';

/*
 * Casts: px.DurationNanos, px.Percent and px.Bytes only say what a number means (Grafana's unit
 * follows). The planner folds them into the value's semantic type, so they never reach a plan.
 */

function cast(name: string, semantic: SemanticType, doc: string, example: string): FunctionEntry {
  return { name, spelling: `px.${name}`, kind: 'cast', signatures: NUMERIC.map((t) => ({ args: [t], ret: t, semantic })), doc, example };
}

/** px.DurationNanos, px.Percent, px.Bytes. */
export const CASTS: readonly FunctionEntry[] = [
  cast('DurationNanos', 'ST_DURATION_NS', 'Marks a number as a duration in ns (Grafana unit "ns").', 'window_ns = px.DurationNanos(10 * 1000 * 1000 * 1000)'),
  cast('Percent', 'ST_PERCENT', 'Marks a ratio (0..1) as a percentage.', 'df.error_rate = px.Percent(df.errors / df.count)'),
  cast('Bytes', 'ST_BYTES', 'Marks a number as a count of bytes.', 'df.size = px.Bytes(df.resp_body_size)'),
];
