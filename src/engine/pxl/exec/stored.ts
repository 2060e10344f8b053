import type { StoredColumn } from '../../store/column.js';
import type { Vec } from './vec.js';

/** A stored column as an executor column; TIME64NS offsets are rebased onto the query's base. */
export function fromStored(c: StoredColumn, timeBase: bigint): Vec {
  switch (c.kind) {
    case 'dict':
      return { t: 'str', c: c.codes, dict: c.dict };
    case 'bool':
      return { t: 'bool', d: c.data };
    case 'big':
      return { t: 'big', d: c.data };
    case 'f64':
    case 'i32':
      return { t: 'num', d: c.data };
    case 'time': {
      if (c.base === timeBase) return { t: 'num', d: c.data };
      const shift = Number(c.base - timeBase);
      const d = new Float64Array(c.data.length);
      for (let i = 0; i < d.length; i++) d[i] = c.data[i]! + shift;
      return { t: 'num', d };
    }
  }
}

/** Bytes a scan reads from a stored column (what `rowsScanned`'s companion counter adds up). */
export function storedBytes(c: StoredColumn): number {
  return c.kind === 'dict' ? c.codes.byteLength : c.data.byteLength;
}
