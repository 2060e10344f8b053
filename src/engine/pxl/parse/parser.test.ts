import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PxlError } from '../diagnostic.js';
import type { Expr, Stmt } from './ast.js';
import { tokenize } from './lexer.js';
import { parse } from './parser.js';

const kinds = (src: string) => tokenize(src).map((t) => (t.kind === 'op' || t.kind === 'name' ? t.text : t.kind));

function firstExpr(src: string): Expr {
  const s = parse(src).body[0]!;
  assert.ok(s.kind === 'expr' || s.kind === 'assign', s.kind);
  return s.kind === 'expr' ? s.value : s.value;
}

/** Renders an expression with explicit parentheses to check precedence. */
function show(e: Expr): string {
  switch (e.kind) {
    case 'name':
      return e.id;
    case 'int':
      return `${e.value}`;
    case 'float':
      return `${e.value}f`;
    case 'str':
      return JSON.stringify(e.parts.map((p) => ('ref' in p ? `$${p.ref.name}` : p.text)).join(''));
    case 'bool':
      return String(e.value);
    case 'none':
      return 'None';
    case 'macro':
      return `$${e.ref.name}${e.ref.call ? '()' : ''}`;
    case 'list':
      return `[${e.items.map(show).join(', ')}]`;
    case 'tuple':
      return `(${e.items.map(show).join(', ')},)`;
    case 'dict':
      return '{}';
    case 'binary':
    case 'compare':
      return `(${show(e.left)} ${e.op} ${show(e.right)})`;
    case 'bool_op':
      return `(${show(e.left)} ${e.op} ${show(e.right)})`;
    case 'unary':
      return `(${e.op} ${show(e.operand)})`;
    case 'call':
      return `${show(e.func)}(${[...e.args.map(show), ...e.keywords.map((k) => `${k.name}=${show(k.value)}`)].join(', ')})`;
    case 'attribute':
      return `${show(e.value)}.${e.attr}`;
    case 'subscript':
      return `${show(e.value)}[${show(e.index)}]`;
  }
}

test('indentation becomes INDENT/DEDENT; blank lines and comments do not count', () => {
  const src = 'def f():\n    x = 1\n\n    # note\n    return x\ny = 2\n';
  assert.deepEqual(kinds(src), [
    'def', 'f', '(', ')', ':', 'newline', 'indent', 'x', '=', 'int', 'newline', 'return', 'x', 'newline', 'dedent',
    'y', '=', 'int', 'newline', 'eof',
  ]);
});

test('newlines inside brackets and after a backslash join lines', () => {
  assert.deepEqual(kinds('x = (1 +\n     2)\ny = 3 + \\\n  4\n'), ['x', '=', '(', 'int', '+', 'int', ')', 'newline', 'y', '=', 'int', '+', 'int', 'newline', 'eof']);
});

test('numbers: ints with underscores and hex, floats with exponents', () => {
  const toks = tokenize('1_000 0x1F 1e9 .5 2.5e-3 7');
  assert.deepEqual(
    toks.filter((t) => t.kind === 'int' || t.kind === 'float').map((t) => [t.kind, (t as { value: unknown }).value]),
    [['int', 1000n], ['int', 31n], ['float', 1e9], ['float', 0.5], ['float', 2.5e-3], ['int', 7n]],
  );
});

test('strings: quotes, escapes, triple quotes, raw strings, adjacent literals', () => {
  assert.equal(show(firstExpr(`x = 'a\\'b\\n\\x41\\u00e9'`)), JSON.stringify("a'b\nAé"));
  assert.equal(show(firstExpr(`x = """line1\nline2 'q'"""`)), JSON.stringify("line1\nline2 'q'"));
  assert.equal(show(firstExpr(`x = r'\\d+\\.'`)), JSON.stringify('\\d+\\.'));
  assert.equal(show(firstExpr(`x = '\\d'`)), JSON.stringify('\\d'));
  assert.equal(show(firstExpr(`x = 'a' "b" '''c'''`)), JSON.stringify('abc'));
});

test('$ references: macros in code, variables in strings, text that only looks like one stays text', () => {
  assert.equal(show(firstExpr('x = $__timeFrom()')), '$__timeFrom()');
  assert.equal(show(firstExpr('x = ${service}')), '$service');
  assert.equal(show(firstExpr("x = 'a $svc b ${ns}c $1 d$'")), JSON.stringify('a $svc b $nsc $1 d$'));
  const t = tokenize("x = 'ab$svc'")[2]!;
  assert.equal(t.kind, 'string');
  if (t.kind === 'string') {
    const ref = t.parts.find((p) => 'ref' in p);
    assert.deepEqual(ref && 'ref' in ref ? ref.ref.span : undefined, { start: { line: 1, column: 8 }, end: { line: 1, column: 12 } });
  }
});

test('spans are 1-based with an exclusive end', () => {
  const e = firstExpr('x = df.latency\n');
  assert.deepEqual(e.span, { start: { line: 1, column: 5 }, end: { line: 1, column: 15 } });
  assert.ok(e.kind === 'attribute');
  if (e.kind === 'attribute') assert.deepEqual(e.attrSpan, { start: { line: 1, column: 8 }, end: { line: 1, column: 15 } });
});

test('precedence: or < and < not < comparison < + - < * / // % < unary minus < call/attribute', () => {
  assert.equal(show(firstExpr('a or b and not c == d + e * -f.g(h)')), '(a or (b and (not (c == (d + (e * (- f.g(h))))))))');
  assert.equal(show(firstExpr('a - b - c // d % e')), '((a - b) - ((c // d) % e))');
  assert.equal(show(firstExpr("df[['a', 'b']]")), 'df[["a", "b"]]');
  assert.equal(show(firstExpr("df['a', 'b']")), 'df[("a", "b",)]');
  assert.equal(show(firstExpr("f(1, k=(2, 3), m=[4],)")), 'f(1, k=(2, 3,), m=[4])');
});

test('def with annotations, defaults and a docstring; augmented assignment desugars', () => {
  const body = parse('def f(start: str, n: int = 5, svc: px.Service = ""):\n    """doc"""\n    n += 1\n    return n\n').body;
  const def = body[0] as Stmt & { kind: 'def' };
  assert.equal(def.kind, 'def');
  assert.deepEqual(def.params.map((p) => [p.name, p.annotation !== undefined, p.default !== undefined]), [
    ['start', true, false], ['n', true, true], ['svc', true, true],
  ]);
  assert.deepEqual(def.body.map((s) => s.kind), ['expr', 'assign', 'return']);
  const aug = def.body[1] as Stmt & { kind: 'assign' };
  assert.equal(show(aug.value), '(n + 1)');
});

test('statements separated by semicolons and one-line function bodies parse', () => {
  assert.deepEqual(parse('a = 1; b = 2\ndef f(): return 3\n').body.map((s) => s.kind), ['assign', 'assign', 'def']);
});

test('syntax errors carry PXL_SYNTAX and the position of the offending token', () => {
  const cases: [string, string, number, number][] = [
    ['x = (1 + \n', "'(' is never closed", 1, 5],
    ['x = 1 +\n', 'expected an expression, found end of line', 1, 8],
    ['def f(a, a):\n  pass\n', "duplicate parameter 'a'", 1, 10],
    ['f(a=1, 2)\n', 'positional argument follows keyword argument', 1, 8],
    ['x = 1 2\n', 'expected end of line, found number 2', 1, 7],
    ['x = 08\n', "invalid number '08': leading zeros are not allowed", 1, 5],
    ["x = 'a\\x4'\n", 'invalid \\x escape: expected 2 hex digits', 1, 7],
  ];
  for (const [src, message, line, column] of cases) {
    assert.throws(() => parse(src), (err: unknown) => {
      assert.ok(err instanceof PxlError);
      assert.equal(err.diagnostic.code, 'PXL_SYNTAX', src);
      assert.equal(err.diagnostic.message, message, src);
      assert.deepEqual(err.diagnostic.span?.start, { line, column }, src);
      return true;
    });
  }
});

test("a missing comma between keyword arguments is Pixie's leniency: parsed, with a PXL_LENIENT warning on the next keyword", () => {
  const m = parse("df = df.groupby('s').agg(\n    n=('latency', px.count)\n    e=('failure', px.mean),\n)\n");
  assert.equal(show((m.body[0] as Stmt & { kind: 'assign' }).value), `df.groupby("s").agg(n=("latency", px.count,), e=("failure", px.mean,))`);
  assert.equal(m.warnings.length, 1);
  const w = m.warnings[0]!;
  assert.deepEqual([w.severity, w.code, w.message], ['warning', 'PXL_LENIENT', "missing ',' between keyword arguments 'n' and 'e'"]);
  assert.deepEqual(w.span, { start: { line: 3, column: 5 }, end: { line: 3, column: 6 } });
  assert.deepEqual(parse('f(a=1, b=2)\n').warnings, []);
  // Only keyword arguments: anything else without its comma stays an error.
  for (const src of ['f(1 2)\n', 'f(a=1 2)\n', 'f(1 b=2)\n']) assert.throws(() => parse(src), (err: unknown) => err instanceof PxlError && err.diagnostic.code === 'PXL_SYNTAX', src);
});
