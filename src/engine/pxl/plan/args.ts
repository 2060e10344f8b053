import { PxlCode, PxlError, type Span } from '../diagnostic.js';
import type { Keyword } from '../parse/ast.js';
import { didYouMean } from './suggest.js';

/**
 * Binds positional and keyword arguments (values, or not yet evaluated syntax) to parameter
 * names, Python style. The first `required` names must be given; the result has no entry for
 * omitted optional ones.
 */
export function bindArgs<T extends { readonly at: Span }>(
  fn: string,
  names: readonly string[],
  required: number,
  args: readonly T[],
  kwargs: readonly (Pick<Keyword, 'name' | 'nameSpan'> & { readonly v: T })[],
  at: Span,
): Map<string, T> {
  const out = new Map<string, T>();
  if (args.length > names.length) {
    throw new PxlError(PxlCode.arity, `${fn} takes at most ${names.length} positional argument${names.length === 1 ? '' : 's'}, got ${args.length}`, args[names.length]!.at, [
      `parameters: ${names.join(', ') || '(none)'}`,
    ]);
  }
  args.forEach((a, i) => out.set(names[i]!, a));
  for (const k of kwargs) {
    if (!names.includes(k.name)) {
      throw new PxlError(PxlCode.arity, `${fn} has no parameter '${k.name}'`, k.nameSpan, [
        ...didYouMean(k.name, names),
        `parameters: ${names.join(', ') || '(none)'}`,
      ]);
    }
    if (out.has(k.name)) throw new PxlError(PxlCode.arity, `${fn} got '${k.name}' twice`, k.nameSpan);
    out.set(k.name, k.v);
  }
  for (const n of names.slice(0, required)) {
    if (!out.has(n)) throw new PxlError(PxlCode.arity, `${fn} is missing the argument '${n}'`, at, [`parameters: ${names.join(', ')}`]);
  }
  return out;
}
