import type { SchemaResponse } from './types.js';

/** One completion offered by the query editor. */
export interface Completion {
  label: string;
  kind: 'table' | 'column' | 'function' | 'macro' | 'ctx' | 'method' | 'keyword';
  insertText: string;
  detail?: string;
  documentation?: string;
}

/** Completions at a cursor, and how many characters before it they replace. */
export interface CompletionResult {
  items: Completion[];
  replaceLength: number;
}

const DATAFRAME_METHODS = ['groupby', 'agg', 'drop', 'head', 'merge', 'append', 'ctx'];
const KEYWORDS = ['import', 'def', 'return', 'and', 'or', 'not', 'True', 'False', 'None', 'px'];

/**
 * What to offer after `textBefore` (the script up to the cursor): table names inside
 * `table='…`, context keys inside `ctx['…`, functions after `px.`, columns after `df.` or
 * `df['…`, Grafana macros after `$`, and Pixie macros, keywords and `px` elsewhere.
 */
export function completionsAt(textBefore: string, schema: SchemaResponse | undefined): CompletionResult {
  const tables = schema?.tables ?? [];
  const inString = /(\w+)\s*(?:=\s*|\[\s*)['"]([\w.]*)$/.exec(textBefore);
  if (inString) {
    const [, owner, prefix] = inString;
    if (owner === 'table') {
      return result(prefix, tables.map((t) => ({ label: t.name, kind: 'table', insertText: t.name, documentation: t.doc })));
    }
    if (owner === 'ctx') {
      return result(prefix, (schema?.ctx ?? []).map((k) => ({ label: k, kind: 'ctx', insertText: k, detail: 'df.ctx key' })));
    }
    return result(prefix, columnItems(schema));
  }
  const dotted = /([A-Za-z_]\w*)\.(\w*)$/.exec(textBefore);
  if (dotted) {
    const [, owner, prefix] = dotted;
    if (owner === 'px') {
      return result(
        prefix,
        (schema?.functions ?? []).map((f) => {
          const name = f.name.replace(/^px\./, '');
          const sig = f.signatures?.[0];
          return {
            label: name,
            kind: 'function',
            insertText: name,
            detail: sig ? `(${sig.args.join(', ')}) → ${sig.ret}${f.kind ? ` · ${f.kind}` : ''}` : f.kind,
            documentation: f.doc,
          };
        })
      );
    }
    const methods: Completion[] = DATAFRAME_METHODS.map((m) => ({ label: m, kind: 'method', insertText: m }));
    return result(prefix, [...columnItems(schema), ...methods]);
  }
  const dollar = /\$\{?(\w*)$/.exec(textBefore);
  if (dollar) {
    const macros = (schema?.macros ?? []).filter((m) => m.name.startsWith('$'));
    return result(
      dollar[0],
      macros.map((m) => ({ label: m.name, kind: 'macro', insertText: m.name, documentation: m.doc }))
    );
  }
  const word = /\w*$/.exec(textBefore)?.[0] ?? '';
  const macros = (schema?.macros ?? []).filter((m) => !m.name.startsWith('$'));
  return result(word, [
    ...macros.map((m): Completion => ({ label: m.name, kind: 'macro', insertText: m.name, documentation: m.doc })),
    ...KEYWORDS.map((k): Completion => ({ label: k, kind: 'keyword', insertText: k })),
  ]);
}

function columnItems(schema: SchemaResponse | undefined): Completion[] {
  const seen = new Map<string, Completion>();
  for (const t of schema?.tables ?? []) {
    for (const c of t.columns) {
      if (!seen.has(c.name)) {
        seen.set(c.name, {
          label: c.name,
          kind: 'column',
          insertText: c.name,
          detail: `${t.name} · ${c.type}${c.semantic && c.semantic !== 'ST_NONE' ? ` · ${c.semantic}` : ''}`,
          documentation: c.doc,
        });
      }
    }
  }
  return [...seen.values()];
}

function result(prefix: string, items: Completion[]): CompletionResult {
  const lower = prefix.replace(/^\$\{?/, '').toLowerCase();
  return {
    items: items.filter((i) => i.label.replace(/^\$\{?/, '').toLowerCase().startsWith(lower)),
    replaceLength: prefix.length,
  };
}
