import type { Vec } from '../../exec/vec.js';
import { ALL_TYPES, type FunctionEntry } from '../entry.js';
import { growF64, type AggState } from './state.js';

/** px.count: rows per group. Its partial is the count (a number, exact below 2^53). */
class CountState implements AggState<number> {
  private c = new Float64Array(0);
  grow(n: number): void {
    this.c = growF64(this.c, n);
  }
  update(gids: Int32Array): void {
    const c = this.c;
    for (let k = 0; k < gids.length; k++) c[gids[k]!]++;
  }
  partial(g: number): number {
    return this.c[g]!;
  }
  merge(g: number, p: number): void {
    this.c[g] += p;
  }
  finalize(n: number): Vec {
    return { t: 'num', d: this.c.slice(0, n) };
  }
}

/** px.count. */
export const COUNT: FunctionEntry = {
  name: 'count',
  spelling: 'px.count',
  kind: 'aggregate',
  signatures: ALL_TYPES.map((t) => ({ args: [t], ret: 'INT64' })),
  doc: 'Number of rows in the group.',
  example: "throughput=('latency', px.count)",
  mergeable: true,
  agg: {
    create: () => new CountState(),
    encode: (p) => p,
    decode: (v) => (typeof v === 'number' ? v : 0),
  },
};
