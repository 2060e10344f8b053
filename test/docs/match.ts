/**
 * Compares what a doc shows with what the product answers, up to the values that vary from run
 * to run. The rules (test/README.md, "The docs' examples"):
 * - text: a number in the doc (digits, with a decimal part) matches any number; `…` inside a
 *   line matches any text on that line; a line that is only `…` or `...` matches any number of
 *   lines; runs of blanks match runs of blanks; trailing blanks and blank lines at the ends do
 *   not count;
 * - JSON: a number matches any number; the string `"..."` or `"…"` matches any value; objects
 *   have exactly the doc's keys; arrays have the doc's length unless listed under `sample`
 *   (each shown element must match one of the answer's, by `name` when it has one) or under
 *   `varies` (anything goes). Paths are dotted (`tables.*.data`; `*` is any key or index).
 */

const NUMBER = /\d+(?:\.\d+)?/g;

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A shown line as a regular expression under the text rules. */
function linePattern(line: string): RegExp {
  const parts = line
    .trimEnd()
    .split('…')
    .map((part) => {
      let out = '';
      let last = 0;
      for (const m of part.matchAll(NUMBER)) {
        out += escapeRegExp(part.slice(last, m.index)).replace(/ +/g, ' +') + '\\d+(?:\\.\\d+)?';
        last = m.index + m[0].length;
      }
      return out + escapeRegExp(part.slice(last)).replace(/ +/g, ' +');
    });
  return new RegExp(`^${parts.join('.*')}$`, 's');
}

function trimLines(text: string): string[] {
  const lines = text.split('\n').map((l) => l.trimEnd());
  while (lines.length > 0 && lines[0] === '') lines.shift();
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/**
 * Undefined when `actual` matches the shown `expected` text; else a message naming the first
 * shown line (1-based within the block) that does not match, and what came instead.
 */
export function matchText(expected: string, actual: string): string | undefined {
  const want = trimLines(expected);
  const got = trimLines(actual);
  const at = (i: number, j: number): boolean => {
    if (i === want.length) return j === got.length;
    const w = want[i]!.trim();
    if (w === '…' || w === '...') {
      for (let k = j; k <= got.length; k++) if (at(i + 1, k)) return true;
      return false;
    }
    return j < got.length && linePattern(want[i]!).test(got[j]!) && at(i + 1, j + 1);
  };
  if (at(0, 0)) return undefined;
  // Report the first line that no alignment gets past, for a readable message.
  let j = 0;
  for (let i = 0; i < want.length; i++) {
    const w = want[i]!.trim();
    if (w === '…' || w === '...') return `the answer does not continue as shown after line ${i} of the block:\n${got.join('\n')}`;
    if (j >= got.length) return `shown line ${i + 1} \`${want[i]}\` is missing; the answer ends:\n${got.join('\n')}`;
    if (!linePattern(want[i]!).test(got[j]!)) return `shown line ${i + 1} \`${want[i]}\` differs from the answer's \`${got[j]}\`; the whole answer:\n${got.join('\n')}`;
    j++;
  }
  return `the answer has more lines than shown:\n${got.slice(j).join('\n')}`;
}

export interface JsonRules {
  /** Paths whose values are not compared. */
  readonly varies: readonly string[];
  /** Paths of arrays the doc shows a sample of. */
  readonly sample: readonly string[];
}

function pathMatches(pattern: string, path: readonly string[]): boolean {
  const p = pattern.split('.');
  return p.length === path.length && p.every((s, i) => s === '*' || s === path[i]);
}

function kind(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
}

/** Every difference between the shown JSON and the answer under the JSON rules, as messages. */
export function matchJson(expected: unknown, actual: unknown, rules: JsonRules, path: string[] = []): string[] {
  const where = path.length > 0 ? path.join('.') : '(top)';
  if (rules.varies.some((p) => pathMatches(p, path))) return [];
  if (expected === '...' || expected === '…') return [];
  if (kind(expected) !== kind(actual)) return [`${where}: shown ${JSON.stringify(expected)}, the answer has ${JSON.stringify(actual)}`];
  if (typeof expected === 'number') return [];
  if (Array.isArray(expected)) {
    const got = actual as unknown[];
    if (rules.sample.some((p) => pathMatches(p, path))) {
      return expected.flatMap((e, i) => {
        const name = (e as { name?: unknown } | null)?.name;
        const candidates = name !== undefined ? got.filter((g) => (g as { name?: unknown } | null)?.name === name) : got;
        const tries = candidates.map((g) => matchJson(e, g, rules, [...path, String(i)]));
        if (tries.some((t) => t.length === 0)) return [];
        return tries.length > 0 ? tries[0]! : [`${where}: shown element ${JSON.stringify(e)} is not in the answer`];
      });
    }
    if (expected.length !== got.length) return [`${where}: shown ${expected.length} elements, the answer has ${got.length}: ${JSON.stringify(got)}`];
    return expected.flatMap((e, i) => matchJson(e, got[i], rules, [...path, String(i)]));
  }
  if (kind(expected) === 'object') {
    const want = expected as Record<string, unknown>;
    const got = actual as Record<string, unknown>;
    const missing = Object.keys(want).filter((k) => !(k in got));
    const extra = Object.keys(got).filter((k) => !(k in want));
    const out: string[] = [];
    if (missing.length > 0) out.push(`${where}: shown keys ${missing.join(', ')} are not in the answer`);
    if (extra.length > 0) out.push(`${where}: the answer has keys the doc does not show: ${extra.join(', ')}`);
    for (const k of Object.keys(want)) if (k in got) out.push(...matchJson(want[k], got[k], rules, [...path, k]));
    return out;
  }
  if (typeof expected === 'string' && typeof actual === 'string') {
    return linePattern(expected).test(actual) ? [] : [`${where}: shown ${JSON.stringify(expected)}, the answer has ${JSON.stringify(actual)}`];
  }
  return expected === actual ? [] : [`${where}: shown ${JSON.stringify(expected)}, the answer has ${JSON.stringify(actual)}`];
}
