import type { DataType } from '../../../schema.js';
import { decodeFloat, encodeFloat, timeOffset } from '../../cells.js';
import type { Vec } from '../../exec/vec.js';
import type { WireCell } from './messages.js';

/**
 * Columns on the wire in the API's exact encoding (docs/api.md): INT64 and TIME64NS as decimal
 * strings, FLOAT64 as numbers or "NaN"/"±Infinity", booleans, strings.
 */

/** The live rows (`sel`, or the first `n`) of an executor column as JSON cells. */
export function encodeVec(v: Vec, type: DataType, sel: Int32Array | null, n: number, timeBase: bigint): WireCell[] {
  const m = sel ? sel.length : n;
  const out: WireCell[] = new Array(m);
  const at = (k: number): number => (sel ? sel[k]! : k);
  switch (v.t) {
    case 'str':
      for (let k = 0; k < m; k++) out[k] = v.dict[v.c[at(k)]!]!;
      return out;
    case 'bool':
      for (let k = 0; k < m; k++) out[k] = v.d[at(k)] === 1;
      return out;
    case 'big':
      for (let k = 0; k < m; k++) out[k] = v.d[at(k)]!.toString();
      return out;
    case 'num': {
      const d = v.d;
      if (type === 'FLOAT64') {
        for (let k = 0; k < m; k++) out[k] = encodeFloat(d[at(k)]!);
      } else if (type === 'BOOLEAN') {
        for (let k = 0; k < m; k++) out[k] = d[at(k)] !== 0;
      } else {
        const base = type === 'TIME64NS' ? timeBase : 0n;
        for (let k = 0; k < m; k++) {
          const x = d[at(k)]!;
          out[k] = (base + BigInt(Number.isFinite(x) ? Math.trunc(x) : 0)).toString();
        }
      }
      return out;
    }
  }
}

/**
 * Cells back into an executor column: TIME64NS as offsets from `base`; INT64 as numbers when
 * every value is a safe integer, else exact bigints.
 */
export function decodeCells(cells: readonly unknown[], type: DataType, base: bigint): Vec {
  const n = cells.length;
  switch (type) {
    case 'STRING':
    case 'UINT128': {
      const dict: string[] = [];
      const index = new Map<string, number>();
      const c = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        const s = String(cells[i]);
        let code = index.get(s);
        if (code === undefined) {
          code = dict.length;
          dict.push(s);
          index.set(s, code);
        }
        c[i] = code;
      }
      return { t: 'str', c, dict };
    }
    case 'BOOLEAN':
      return { t: 'bool', d: Uint8Array.from(cells, (x) => (x === true ? 1 : 0)) };
    case 'FLOAT64':
      return { t: 'num', d: Float64Array.from(cells, decodeFloat) };
    case 'TIME64NS':
      return { t: 'num', d: Float64Array.from(cells, (x) => timeOffset(x, base)) };
    case 'INT64': {
      const d = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        const x = Number(cells[i]);
        if (!Number.isSafeInteger(x)) return { t: 'big', d: BigInt64Array.from(cells, (y) => BigInt.asIntN(64, BigInt(String(y)))) };
        d[i] = x;
      }
      return { t: 'num', d };
    }
  }
}
