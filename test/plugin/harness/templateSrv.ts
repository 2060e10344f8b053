import type { DataContextScopedVar, ScopedVars, TypedVariableModel } from '@grafana/data';
import type { TemplateSrv } from '@grafana/runtime';

/** The page's time range, for `${__url_time_range}` in data links. */
export interface Range {
  from: number;
  to: number;
}

/**
 * The harness's stand-in for Grafana's TemplateSrv (part of Grafana's core, not a package):
 * dashboard variables with current values, which the page may change; `replace` hands each
 * value (an array when multi-valued) to a function format as Grafana does. For data links it
 * resolves what Grafana's resolves there: `${__value.raw}` from the `__dataContext` scoped
 * variable Grafana's link supplier passes, and `${__url_time_range}`; with the `uriencode`
 * format (Grafana's for link URLs) values are URI-encoded.
 */
export function harnessTemplateSrv(vars: Record<string, string | string[]>, range: Range): TemplateSrv {
  const replace = (target?: string, scopedVars?: ScopedVars, format?: string | Function): string =>
    (target ?? '').replace(/\$\{([\w.]+)(?::(\w+))?\}|\$(\w+)/g, (whole, a: string | undefined, fmt: string | undefined, b: string | undefined) => {
      const name = a ?? b ?? '';
      const encode = (fmt ?? format) === 'uriencode' ? encodeURIComponent : (s: string) => s;
      if (name === '__url_time_range') {
        return `from=${range.from}&to=${range.to}`;
      }
      if (name === '__value.raw') {
        const ctx = (scopedVars?.__dataContext as DataContextScopedVar | undefined)?.value;
        const row = ctx?.rowIndex;
        return ctx && row !== undefined ? encode(String(ctx.field.values[row] ?? '')) : whole;
      }
      const value = scopedVars?.[name]?.value ?? vars[name];
      if (value === undefined) {
        return whole;
      }
      if (typeof format === 'function') {
        return String(format(value));
      }
      return encode(Array.isArray(value) ? value.join(',') : String(value));
    });
  return {
    getVariables: () =>
      Object.entries(vars).map(([name, value]) => ({ name, multi: Array.isArray(value) }) as unknown as TypedVariableModel),
    replace,
    containsTemplate: (target?: string) => /\$\w+|\$\{\w+\}/.test(target ?? ''),
    updateTimeRange: () => undefined,
  } as TemplateSrv;
}
