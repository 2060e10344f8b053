import type { ScopedVars } from '@grafana/data';
import type { TemplateSrv } from '@grafana/runtime';

/** The part of Grafana's template service the plugin reads. */
export type VariableSource = Pick<TemplateSrv, 'getVariables' | 'replace'>;

/**
 * Dashboard variables as the engine's `variables` field wants them: name → value, a list for
 * multi-value. Values come from the template service's own formatting hook, so "All", custom
 * all-values and scoped (repeated-panel) values resolve exactly as Grafana resolves them; the
 * script text is left untouched and the engine substitutes knowing PxL's syntax.
 */
export function collectVariables(src: VariableSource, scopedVars?: ScopedVars): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  const names = new Set<string>(src.getVariables().map((v) => v.name));
  for (const name of Object.keys(scopedVars ?? {})) {
    names.add(name);
  }
  for (const name of names) {
    // Names starting with "__" are Grafana's macros (__interval, __from …); the engine derives
    // those from range and intervalMs itself.
    if (name.startsWith('__')) {
      continue;
    }
    let value: string | string[] | undefined;
    src.replace(`\${${name}}`, scopedVars, (v: unknown) => {
      value = Array.isArray(v) ? v.map(String) : String(v ?? '');
      return '';
    });
    if (value !== undefined) {
      out[name] = value;
    }
  }
  return out;
}
