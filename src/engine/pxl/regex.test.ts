import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkRewrite, compilePattern, compileReplacer, MAX_PROGRAM, patternFor, type FullMatch } from './regex.js';

function matcher(pattern: string): FullMatch {
  const m = compilePattern(pattern);
  assert.equal(typeof m, 'function', `${pattern}: ${typeof m === 'function' ? '' : m.message}`);
  return m as FullMatch;
}

test('catastrophic backtracking patterns answer in linear time', () => {
  // On a backtracking engine (JavaScript's RegExp) each of these takes seconds to years on
  // these subjects: the work grows 2x per added character.
  const cases: [string, string][] = [
    ['(a+)+b', 'a'.repeat(30)],
    ['(a|aa)+b', 'a'.repeat(30)],
    ['(a|a)*b', 'a'.repeat(30)],
    ['(.*a){12}', 'a'.repeat(30) + 'b'],
    ['(\\w+\\s?)+$', 'word '.repeat(6) + '!'],
    ['(a+)+b', 'a'.repeat(100_000)],
  ];
  for (const [pattern, subject] of cases) {
    const m = matcher(pattern);
    const t = performance.now();
    assert.equal(m(subject), false, pattern);
    const ms = performance.now() - t;
    assert.ok(ms < (subject.length > 1000 ? 500 : 50), `${pattern} on ${subject.length} chars: ${ms.toFixed(1)} ms`);
  }
});

test('matches follow RE2 FullMatch with default options, as Pixie', () => {
  const table: [string, string, boolean][] = [
    ['/api/v[0-9]+/.*', '/api/v1/users', true],
    ['/api/v[0-9]+/.*', '/api/vx/users', false],
    // The whole value must match: no implicit .* on either side.
    ['abc', 'abcd', false],
    ['abc.*', 'abcd', true],
    ['bc', 'abc', false],
    ['a|b', 'ab', false],
    ['a|ab', 'ab', true],
    ['', '', true],
    ['x*', '', true],
    // `.` does not match a newline unless (?s) says so.
    ['a.b', 'a\nb', false],
    ['(?s)a.b', 'a\nb', true],
    ['a.b', 'axb', true],
    // Flags, classes, Unicode, quoting.
    ['(?i)get', 'GET', true],
    ['get', 'GET', false],
    ['\\d{3}', '404', true],
    ['\\d{3}', '40', false],
    ['[[:alpha:]]+', 'abc', true],
    ['\\pL+', 'héllo', true],
    ['\\p{Greek}+', 'αβγ', true],
    ['\\Qa.b\\E', 'a.b', true],
    ['\\Qa.b\\E', 'axb', false],
    ['(?P<v>v[0-9])/.*', 'v2/x', true],
    ['(?<v>v[0-9])/.*', 'v2/x', true],
    ['^/health$', '/health', true],
    ['\\bGET\\b', 'GET', true],
    ['a{2,3}', 'aaaa', false],
    ['a{2,3}', 'aaa', true],
    ['[^/]+', 'a/b', false],
    ['x*?y', 'xxy', true],
    ['😀+', '😀😀', true],
    ['.', '😀', true],
  ];
  for (const [pattern, subject, expected] of table) assert.equal(matcher(pattern)(subject), expected, `${pattern} ~ ${JSON.stringify(subject)}`);
});

test('what RE2 lacks is refused with a message saying what it is and what to do', () => {
  const refused: [string, RegExp][] = [
    ['(a)\\1', /^backreferences such as \\1 are not supported/],
    ['(?<x>a)\\k<x>', /^backreferences such as \\k<name> are not supported/],
    ['/api(?=/v1)', /^lookaround such as \(\?=\.\.\.\) is not supported/],
    ['/api(?!/internal).*', /^lookaround such as \(\?!\.\.\.\) is not supported/],
    ['(?<=/api)/v1', /^lookaround such as \(\?<=\.\.\.\) is not supported/],
    ['(?<!x)y', /^lookaround such as \(\?<!\.\.\.\) is not supported/],
    ['(unclosed', /^invalid regular expression: missing closing \): `\(unclosed`$/],
    ['[a-', /^invalid regular expression: /],
    ['a{1001}', /^invalid regular expression: invalid repeat count/],
    ['a++', /^invalid regular expression: /],
    ['\\Z', /^invalid regular expression: invalid escape sequence/],
  ];
  for (const [pattern, message] of refused) {
    const m = compilePattern(pattern);
    assert.notEqual(typeof m, 'function', pattern);
    if (typeof m === 'function') continue;
    assert.match(m.message, message, pattern);
    assert.ok(m.hints.length > 0, pattern);
    assert.equal(m.tooLarge, false, pattern);
  }
  // Escaped or quoted, the same characters are fine.
  assert.equal(matcher('\\\\1')('\\1'), true);
  assert.equal(matcher('[(?=]+')('(?='), true);
  assert.equal(matcher('\\Q(?=\\E')('(?='), true);
});

test('a pattern that compiles past the program bound is refused as too large', () => {
  const big = compilePattern('[a-z]{1000}'.repeat(11));
  assert.ok(typeof big !== 'function' && big.tooLarge, 'too large');
  assert.ok(typeof big !== 'function' && big.message.includes(`more than ${MAX_PROGRAM}`));
  assert.equal(typeof compilePattern('[a-z]{1000}'.repeat(9)), 'function');
});

test('patterns are compiled once while in use', () => {
  assert.equal(patternFor('/cached/.*'), patternFor('/cached/.*'));
  for (let i = 0; i < 100; i++) patternFor(`/p${i}`);
  assert.equal(typeof patternFor('/cached/.*'), 'function');
});

test("replace: RE2's GlobalReplace (Pixie's px.replace): groups, empty matches, anchors, backslashes", () => {
  const replace = (pattern: string, value: string, rewrite: string): string => {
    const r = compileReplacer(pattern);
    assert.ok('replaceAll' in r, pattern);
    assert.equal(checkRewrite(rewrite, r.groups), undefined, rewrite);
    return r.replaceAll(value, rewrite);
  };
  assert.equal(replace('10\\.0\\.0\\.[0-9]+', 'from 10.0.0.12 to 10.0.0.7', 'IP_ADDR'), 'from IP_ADDR to IP_ADDR');
  assert.equal(replace('/items/([0-9]+)', '/items/42/x', '/items/{\\1}'), '/items/{42}/x');
  assert.equal(replace('(\\w+)@(\\w+)', 'ann@ex bob@ey', '\\2:\\1 (\\0)'), 'ex:ann (ann@ex) ey:bob (bob@ey)');
  // An empty match right after a match is skipped, as RE2 and Go do (Java would give -b--c-).
  assert.equal(replace('a*', 'baaac', '-'), '-b-c-');
  assert.equal(replace('', 'abc', '-'), '-a-b-c-');
  assert.equal(replace('^a', 'aaa', 'b'), 'baa');
  assert.equal(replace('x', 'axb', '\\\\$1'), 'a\\$1b');
  assert.equal(replace('é', 'café😀é', 'e'), 'cafe😀e');
  assert.equal(replace('q', 'abc', 'z'), 'abc');
  assert.match(checkRewrite('\\2', 1)!, /group \\2, but the pattern has 1 group/);
  assert.match(checkRewrite('a\\x', 0)!, /must be followed by a digit/);
  assert.match(checkRewrite('a\\', 0)!, /must be followed by a digit/);
  const bad = compileReplacer('(a');
  assert.ok(!('replaceAll' in bad) && /missing closing \)/.test(bad.message));
});
