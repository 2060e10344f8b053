import type { ScopedVars, TypedVariableModel } from '@grafana/data';
import type { TemplateSrv } from '@grafana/runtime';

/**
 * The harness's stand-in for Grafana's TemplateSrv (part of Grafana's core, not a package):
 * dashboard variables with current values; `replace` hands each value (an array when
 * multi-valued) to a function format as Grafana does.
 */
export function harnessTemplateSrv(vars: Record<string, string | string[]>): TemplateSrv {
  const replace = (target?: string, scopedVars?: ScopedVars, format?: string | Function): string =>
    (target ?? '').replace(/\$\{(\w+)\}|\$(\w+)/g, (whole, a: string | undefined, b: string | undefined) => {
      const name = a ?? b ?? '';
      const value = scopedVars?.[name]?.value ?? vars[name];
      if (value === undefined) {
        return whole;
      }
      if (typeof format === 'function') {
        return String(format(value));
      }
      return Array.isArray(value) ? value.join(',') : String(value);
    });
  return {
    getVariables: () =>
      Object.entries(vars).map(([name, value]) => ({ name, multi: Array.isArray(value) }) as unknown as TypedVariableModel),
    replace,
    containsTemplate: (target?: string) => /\$\w+|\$\{\w+\}/.test(target ?? ''),
    updateTimeRange: () => undefined,
  } as TemplateSrv;
}
