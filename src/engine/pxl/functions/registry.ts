import type { DataType } from '../../schema.js';
import { PxlError } from '../diagnostic.js';
import { ANY } from './aggregates/any.js';
import { COUNT } from './aggregates/count.js';
import { MAX, MIN } from './aggregates/extremes.js';
import { MEAN } from './aggregates/mean.js';
import { QUANTILES } from './aggregates/quantiles.js';
import type { AggState } from './aggregates/state.js';
import { SUM } from './aggregates/sum.js';
import { ARITHMETIC } from './arithmetic.js';
import { CASTS } from './casts.js';
import type { FunctionEntry } from './entry.js';
import { HOST } from './host.js';
import { LOGIC } from './logic.js';
import { METADATA } from './metadata.js';
import { REFERENCES } from './references.js';
import { STRINGS } from './strings.js';
import { TIME } from './time.js';

/**
 * The one registry of PxL functions, operators and aggregates (arquero's op registry). The
 * planner checks every call against these signatures, folds constants with them and emits
 * `call`/agg nodes naming an entry; the executor evaluates each entry by `name`; the broker and
 * engines exchange aggregates' partial states through them; `/api/v1/schema` and the editor's
 * completion read the same docs. One module per family holds all of a function.
 */
const ENTRIES: readonly FunctionEntry[] = [
  ...ARITHMETIC,
  ...LOGIC,
  ...TIME,
  ...STRINGS,
  ...REFERENCES,
  ...METADATA,
  ...HOST,
  ...CASTS,
  COUNT,
  SUM,
  MEAN,
  MIN,
  MAX,
  ANY,
  QUANTILES,
];

const BY_NAME = new Map(ENTRIES.map((e) => [e.name, e]));

/** Every registry entry, in a stable order. */
export function registryEntries(): readonly FunctionEntry[] {
  return ENTRIES;
}

/** The entry a plan names, if any. */
export function registryEntry(name: string): FunctionEntry | undefined {
  return BY_NAME.get(name);
}

/** The entry behind `px.<attr>`, or undefined when `px` has no such function. */
export function pxFunction(attr: string): FunctionEntry | undefined {
  const e = BY_NAME.get(attr);
  return e && e.kind !== 'operator' ? e : undefined;
}

/** Names a script may write after `px.`, for completion and "did you mean" hints. */
export function pxFunctionNames(): string[] {
  return ENTRIES.filter((e) => e.kind !== 'operator').map((e) => e.name);
}

/** The implementation of aggregate `fn`; PXL_UNKNOWN_FUNCTION when there is none. */
function aggregate(fn: string): NonNullable<FunctionEntry['agg']> {
  const impl = BY_NAME.get(fn)?.agg;
  if (!impl) throw new PxlError('PXL_UNKNOWN_FUNCTION', `executor: no aggregate '${fn}'`);
  return impl;
}

/** Creates the grouped state of aggregate `fn` for an argument of `argType` producing `outType`. */
export function createAgg(fn: string, argType: DataType, outType: DataType): AggState<unknown> {
  return aggregate(fn).create(argType, outType);
}

/** A partial state of `fn` as exact JSON, for engine `base` (its TIME64NS offsets' origin): docs/broker.md. */
export function encodePartial(fn: string, argType: DataType, p: unknown, base: bigint): unknown {
  return aggregate(fn).encode(p, argType, base);
}

/** The inverse of encodePartial on the broker, offsets from its own `base`. */
export function decodePartial(fn: string, argType: DataType, v: unknown, base: bigint): unknown {
  return aggregate(fn).decode(v, argType, base);
}
