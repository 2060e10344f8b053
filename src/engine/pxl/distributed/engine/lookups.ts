import type { MetadataView } from '../../../meta/types.js';
import { METADATA_FNS } from '../../functions/metadata.js';

/**
 * Applies a lookup chain to distinct values on the engine: the answers of each step, keyed by
 * function, for the `lookup` lines of a partial response.
 */
export function answerLookups(md: MetadataView, fns: readonly string[], values: Iterable<string>, into: Map<string, Map<string, string | number>>): void {
  let current = [...new Set(values)];
  for (const fn of fns) {
    const f = METADATA_FNS.get(fn)!;
    const table = into.get(fn) ?? new Map<string, string | number>();
    into.set(fn, table);
    const next: string[] = [];
    for (const v of current) {
      const r = table.get(v) ?? f(md, v);
      table.set(v, r);
      next.push(String(r));
    }
    current = [...new Set(next)];
  }
}
