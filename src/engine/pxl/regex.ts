import { RE2JS, RE2JSException } from 're2js';

/**
 * PxL's regular expressions: RE2 syntax and meaning, as Pixie's `px.regex_match` (RE2's
 * FullMatch with default options: the whole value must match, `.` does not match a newline
 * unless the pattern says `(?s)`). Matching runs on re2js, a port of RE2 that takes time linear
 * in the input whatever the pattern, so a pattern such as `(a+)+b` cannot make a query
 * backtrack for ever (JavaScript's own RegExp would, and no abort can stop a running match).
 */

/** Why a pattern cannot be used: the message, and what to write instead. */
export interface PatternError {
  readonly message: string;
  readonly hints: readonly string[];
  /** The pattern compiles to more than MAX_PROGRAM instructions (PXL_LIMIT rather than PXL_VALUE). */
  readonly tooLarge: boolean;
}

/** A compiled pattern: whether a whole value matches. */
export type FullMatch = (value: string) => boolean;

/**
 * RE2 instructions a pattern may compile to. Matching costs up to this much per input
 * character; `x{1000}` is a thousand copies of x, so 20 of them are already too many.
 */
export const MAX_PROGRAM = 10_000;

const SYNTAX_HINT = 'PxL regular expressions follow RE2 syntax (github.com/google/re2/wiki/Syntax)';

/** `pattern` compiled by RE2 within MAX_PROGRAM, or why it is refused. */
function compileRe2(pattern: string): RE2JS | PatternError {
  let re: RE2JS;
  try {
    re = RE2JS.compile(pattern);
  } catch (err) {
    if (!(err instanceof RE2JSException)) throw err;
    return unsupported(pattern) ?? { message: `invalid regular expression: ${err.message.replace(/^error parsing regexp: /, '')}`, hints: [SYNTAX_HINT], tooLarge: false };
  }
  const size = re.programSize();
  if (size > MAX_PROGRAM) {
    return {
      message: `the regular expression is too large: it compiles to ${size} instructions, more than ${MAX_PROGRAM}`,
      hints: ['repetitions count written out: x{1000} is a thousand copies of x; use x+ or x* where the count does not matter'],
      tooLarge: true,
    };
  }
  return re;
}

/** A full matcher for `pattern`, or why it is refused. */
export function compilePattern(pattern: string): FullMatch | PatternError {
  const re = compileRe2(pattern);
  return re instanceof RE2JS ? (value) => re.testExact(value) : re;
}

/**
 * Replaces every match in a value by a rewrite, as RE2's GlobalReplace (Pixie's px.replace):
 * `\0`…`\9` in the rewrite stand for the match and its groups, `\\` for a backslash.
 */
export interface Replacer {
  /** Capturing groups of the pattern. */
  readonly groups: number;
  /** `value` with every match replaced; the rewrite must have passed checkRewrite. */
  replaceAll(value: string, rewrite: string): string;
}

/** A replacer for `pattern`, or why it is refused (the same rules as compilePattern). */
export function compileReplacer(pattern: string): Replacer | PatternError {
  const re = compileRe2(pattern);
  if (!(re instanceof RE2JS)) return re;
  return { groups: re.groupCount(), replaceAll: (value, rewrite) => globalReplace(re, value, rewrite) };
}

/** Why RE2 would refuse `rewrite` for a pattern with `groups` groups (its CheckRewriteString), or undefined. */
export function checkRewrite(rewrite: string, groups: number): string | undefined {
  for (let i = 0; i < rewrite.length; i++) {
    if (rewrite[i] !== '\\') continue;
    const c = rewrite[++i];
    if (c === '\\') continue;
    if (c === undefined || c < '0' || c > '9') return `invalid rewrite pattern: '\\' must be followed by a digit or another '\\' (in ${JSON.stringify(rewrite)})`;
    if (Number(c) > groups) return `rewrite refers to group \\${c}, but the pattern has ${groups} group${groups === 1 ? '' : 's'}`;
  }
  return undefined;
}

/**
 * RE2::GlobalReplace: non-overlapping matches left to right; an empty match right where the
 * previous one ended is skipped (one character is copied instead), so `a*` on `baaac` gives
 * `-b-c-`, not Java's `-b--c-`.
 */
function globalReplace(re: RE2JS, value: string, rewrite: string): string {
  const m = re.matcher(value);
  let out = '';
  let p = 0;
  let lastEnd = -1;
  while (p <= value.length && m.find(p)) {
    const start = m.start();
    const end = m.end();
    out += value.slice(p, start);
    if (start === end && start === lastEnd) {
      if (start >= value.length) break;
      const step = value.codePointAt(start)! > 0xffff ? 2 : 1;
      out += value.slice(start, start + step);
      p = start + step;
      continue;
    }
    for (let i = 0; i < rewrite.length; i++) {
      const c = rewrite[i]!;
      if (c !== '\\') {
        out += c;
        continue;
      }
      const d = rewrite[++i]!;
      out += d === '\\' ? '\\' : (m.group(Number(d)) ?? '');
    }
    p = end;
    lastEnd = end;
  }
  return out + value.slice(p);
}

/**
 * The friendlier error for a pattern RE2 refused because it uses what only backtracking
 * engines have: backreferences and lookaround (outside character classes and \Q...\E).
 */
function unsupported(p: string): PatternError | null {
  let inClass = false;
  for (let i = 0; i < p.length; i++) {
    const c = p[i]!;
    if (c === '\\') {
      const n = p[i + 1];
      if (n === 'Q') {
        const end = p.indexOf('\\E', i + 2);
        if (end < 0) return null;
        i = end + 1;
        continue;
      }
      if (!inClass && n !== undefined && ((n >= '1' && n <= '9') || (n === 'k' && p[i + 2] === '<'))) {
        return {
          message: `backreferences such as \\${n === 'k' ? 'k<name>' : n} are not supported in regular expressions`,
          hints: ['PxL regular expressions are RE2, which matches in time linear in the value and so cannot refer back to a group', 'write the repeated text out, or test it with px.contains'],
          tooLarge: false,
        };
      }
      i++;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      continue;
    }
    if (c === '[') {
      inClass = true;
      if (p[i + 1] === '^') i++;
      if (p[i + 1] === ']') i++;
    } else if (c === '(' && p[i + 1] === '?') {
      const kind = p.slice(i + 2, i + 4);
      if (kind[0] === '=' || kind[0] === '!' || kind === '<=' || kind === '<!') {
        return {
          message: `lookaround such as (?${kind[0] === '<' ? kind : kind[0]}...) is not supported in regular expressions`,
          hints: ['PxL regular expressions are RE2, which has no lookahead or lookbehind', 'match the context as part of the pattern, or combine px.regex_match calls with and / not'],
          tooLarge: false,
        };
      }
    }
  }
  return null;
}

const CACHE_SIZE = 64;

/** `compile`, remembered for the most recently used patterns (the executor asks per chunk). */
function remembered<T>(compile: (pattern: string) => T): (pattern: string) => T {
  const cache = new Map<string, T>();
  return (pattern) => {
    let m = cache.get(pattern);
    if (m === undefined) {
      m = compile(pattern);
      if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value!);
    } else cache.delete(pattern);
    cache.set(pattern, m);
    return m;
  };
}

/** `compilePattern`, remembered for the most recently used patterns. */
export const patternFor: (pattern: string) => FullMatch | PatternError = remembered(compilePattern);

/** `compileReplacer`, remembered for the most recently used patterns. */
export const replacerFor: (pattern: string) => Replacer | PatternError = remembered(compileReplacer);
