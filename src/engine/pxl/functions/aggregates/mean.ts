import { decodeFloat, encodeFloat } from '../../cells.js';
import type { Val, Vec } from '../../exec/vec.js';
import type { FunctionEntry } from '../entry.js';
import { dense, growF64, type AggState } from './state.js';

/** px.mean. Its partial is the sum and the count, `{sum, count}`. */
interface MeanPartial {
  readonly sum: number;
  readonly count: number;
}

class MeanState implements AggState<MeanPartial> {
  private s = new Float64Array(0);
  private c = new Float64Array(0);
  grow(n: number): void {
    this.s = growF64(this.s, n);
    this.c = growF64(this.c, n);
  }
  update(gids: Int32Array, sel: Int32Array | null, arg: Val): void {
    const s = this.s;
    const c = this.c;
    const d = dense(arg, sel, gids.length);
    for (let k = 0; k < gids.length; k++) {
      const g = gids[k]!;
      s[g] += d[k]!;
      c[g]++;
    }
  }
  partial(g: number): MeanPartial {
    return { sum: this.s[g]!, count: this.c[g]! };
  }
  merge(g: number, p: MeanPartial): void {
    this.s[g] += p.sum;
    this.c[g] += p.count;
  }
  finalize(n: number): Vec {
    const d = new Float64Array(n);
    for (let g = 0; g < n; g++) d[g] = this.s[g]! / this.c[g]!;
    return { t: 'num', d };
  }
}

/** px.mean. */
export const MEAN: FunctionEntry = {
  name: 'mean',
  spelling: 'px.mean',
  kind: 'aggregate',
  signatures: [
    { args: ['INT64'], ret: 'FLOAT64' },
    { args: ['FLOAT64'], ret: 'FLOAT64' },
    { args: ['BOOLEAN'], ret: 'FLOAT64' },
  ],
  doc: 'Arithmetic mean (of True as 1 and False as 0 for booleans).',
  example: "error_rate=('failure', px.mean)",
  mergeable: true,
  semantic: 'first',
  agg: {
    create: () => new MeanState(),
    encode: (p) => {
      const m = p as MeanPartial;
      return { sum: encodeFloat(m.sum), count: m.count };
    },
    decode: (v): MeanPartial => {
      const o = (typeof v === 'object' && v !== null ? v : {}) as Record<string, unknown>;
      return { sum: decodeFloat(o['sum']), count: typeof o['count'] === 'number' ? o['count'] : 0 };
    },
  },
};
