import type { Catalog } from '../catalog.js';
import type { Diagnostic } from '../diagnostic.js';
import type { FoldContext } from '../functions/entry.js';
import type { AdhocContext } from './adhoc.js';
import type { MacroContext } from './macros.js';

/** Everything the compile-time walk (interp.ts, dataframe.ts) needs from outside: tables, macros, the query time. */
export interface Environment {
  readonly catalog: Catalog;
  readonly macros: MacroContext;
  readonly fold: FoldContext;
  /** Collects warnings; the script still compiles. */
  readonly warn: (d: Diagnostic) => void;
  /** The request's ad hoc filters, applied to every DataFrame read from a table. */
  readonly adhoc?: AdhocContext;
  /** How long the compile may take (LIMITS.compileMs), from `startedMs` (performance.now(), before parsing). */
  readonly compileMs: number;
  readonly startedMs: number;
}
