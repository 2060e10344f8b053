import type { FunctionEntry } from './entry.js';
import { perStrings, stringsToStr } from './vectorized.js';

/*
 * px.script_reference: in Pixie's UI a link that runs another script with arguments. Wisp
 * returns the value Pixie's engine computes, a JSON object {"label", "script", "args"} (Pixie's
 * ST_SCRIPT_REFERENCE); the Grafana plugin shows its label in a table cell.
 */

/** Pixie's JSON for a reference: label, script, then the arguments from alternating names and values. */
function reference(xs: readonly string[]): string {
  const args: Record<string, string> = {};
  for (let i = 2; i + 1 < xs.length; i += 2) args[xs[i]!] = xs[i + 1]!;
  return JSON.stringify({ label: xs[0], script: xs[1], args });
}

/** px.script_reference(label, script, args={...}). */
export const REFERENCES: readonly FunctionEntry[] = [
  {
    name: 'script_reference',
    spelling: 'px.script_reference',
    kind: 'scalar',
    signatures: [{ args: ['STRING', 'STRING'], rest: 'STRING', ret: 'STRING', semantic: 'ST_SCRIPT_REFERENCE' }],
    params: ['label', 'script', 'args'],
    dictParam: 'args',
    doc: 'A reference to a script run with arguments, as Pixie returns it: JSON {"label", "script", "args"}; args is a dict literal of string keys and string values or columns. Grafana tables show the label.',
    example: "df.link = px.script_reference(df.req_path, 'px/http_data', {'path': df.req_path, 'start_time': '-5m'})",
    eval: (call) => stringsToStr(perStrings(call, call.args, reference)),
    fold: (args) => reference(args.map((a) => String(a.value))),
  },
];
