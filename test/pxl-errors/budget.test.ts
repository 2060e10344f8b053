import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compile } from '../../src/engine/pxl/compile.js';
import { PxlError, type Diagnostic } from '../../src/engine/pxl/diagnostic.js';
import { LIMITS } from '../../src/engine/pxl/plan/limits.js';
import { fixedOptions, httpCatalog } from '../../src/testkit/pxl-scripts/scripts.js';

/**
 * The compile budget: scripts that reuse a value or a DataFrame so that what they stand for
 * doubles with every line, and scripts as large as the API accepts (256 KiB) built to make
 * each pass work hardest. Each must answer quickly, with PXL_LIMIT pointing at the line that
 * crossed a bound or with a plan; none may hold the event loop for long.
 */

const HEAD = "import px\ndf = px.DataFrame(table='http_events')\n";
/** The API's default script limit (src/engine/api/server.ts). */
const MAX_SCRIPT = 256 * 1024;

function outcome(script: string, options = fixedOptions): { ms: number; error?: Diagnostic } {
  const t = performance.now();
  try {
    compile(script, options, httpCatalog);
    return { ms: performance.now() - t };
  } catch (err) {
    assert.ok(err instanceof PxlError, `expected a PxlError, got ${String(err)}`);
    return { ms: performance.now() - t, error: err.diagnostic };
  }
}

/** `a = a + a`, `n` times: 2^(n+1) - 1 terms written out. */
function doubling(n: number): string {
  return HEAD + 'a = df.latency\n' + 'a = a + a\n'.repeat(n) + 'df.x = a\npx.display(df)\n';
}

for (const n of [30, 60, 1000]) {
  test(`the doubling bomb of ${n} lines answers PXL_LIMIT at the line that crossed the bound, fast`, () => {
    const { ms, error } = outcome(doubling(n));
    assert.equal(error?.code, 'PXL_LIMIT', error?.message);
    // df.latency is 1 term; after line k it is 2^(k+1) - 1, past 10,000 at k = 13 (line 3 + 13).
    assert.deepEqual(error.span, { start: { line: 16, column: 5 }, end: { line: 16, column: 10 } });
    assert.ok(ms < 250, `${ms.toFixed(0)} ms`);
  });
}

test('a doubling that stays within the bound compiles', () => {
  const { error } = outcome(doubling(12));
  assert.equal(error, undefined);
});

test('doubling through function calls, DataFrames and strings answers PXL_LIMIT', () => {
  const scripts = {
    calls: HEAD + 'def twice(x):\n    return x + x\n\ndf.x = ' + 'twice('.repeat(60) + 'df.latency' + ')'.repeat(60) + '\npx.display(df)\n',
    append: HEAD + 'df = df[["latency"]]\n' + 'df = df.append(df)\n'.repeat(60) + 'px.display(df)\n',
    merge: HEAD + 'df = df[["req_path"]]\n' + "df = df.merge(df, how='inner', left_on='req_path', right_on='req_path', suffixes=['', '_r'])[['req_path']]\n".repeat(60) + 'px.display(df)\n',
    columns: HEAD + Array.from({ length: 2000 }, (_, i) => `df.c${i} = ${i}\n`).join('') + 'px.display(df)\n',
    string: HEAD + "s = 'abcdefgh'\n" + 's = s + s\n'.repeat(60) + 'px.display(df[df.req_path == s])\n',
    chain: HEAD + "df = df[['latency']]\n" + 'df.latency = df.latency + 1\n'.repeat(1500) + 'px.display(df)\n',
    nesting: HEAD + 'a = df.latency\n' + 'a = a + 1\n'.repeat(1500) + 'df.x = a\npx.display(df)\n',
  };
  for (const [name, script] of Object.entries(scripts)) {
    const { ms, error } = outcome(script);
    assert.equal(error?.code, 'PXL_LIMIT', `${name}: ${error?.message}`);
    assert.ok(error.span, `${name}: the error points at the script`);
    assert.ok(error.hints.length > 0, `${name}: a hint`);
    assert.ok(ms < 500, `${name}: ${ms.toFixed(0)} ms`);
  }
});

/** `line(i)` repeated to fill the API's largest script after `head`. */
function fill(head: string, line: (i: number) => string, tail = ''): string {
  const parts = [head];
  let size = head.length + tail.length;
  for (let i = 0; size + line(i).length <= MAX_SCRIPT; i++) {
    parts.push(line(i));
    size += line(i).length;
  }
  return parts.join('') + tail;
}

test('the largest scripts the API accepts, built to make each pass work hardest, compile within a second', () => {
  const wide = HEAD + Array.from({ length: 400 }, (_, i) => `df.c${i} = ${i}\n`).join('');
  const scripts = {
    statements: fill(HEAD, () => 'x = 1\n'),
    arithmetic: fill(HEAD + 'x = 0\n', () => 'x = x + 1 + 1 + 1 + 1 + 1\n'),
    'one long expression': HEAD + 'x = ' + fill('', () => '1 + ').slice(0, MAX_SCRIPT - HEAD.length - 10) + '1\n',
    'copies of a wide DataFrame': fill(wide, () => 'y = df[df.c0 == 1]\ny.c1 = 2\n'),
    'filters on a shared expression': fill(HEAD + 'a = df.latency\n' + 'a = a + a\n'.repeat(12), () => 'd = df[a > 0]\n', 'px.display(d)\n'),
    'a function body run at every call': fill('import px\ndef f():\n', () => '    x = 1\n', '\ndef g():\n' + '    f()\n'.repeat(60) + 'g()\n'),
    'nested calls': fill(HEAD + 'def f(x):\n    return x + 1\n', () => 'a = f(f(f(f(df.latency))))\n'),
    'displays': fill(HEAD, (i) => `px.display(df, 'o${i}')\n`),
    'a list compared with ==': fill(HEAD + 'd = df[df.req_path == [', () => "'/p/abcdefgh', ", ']]\npx.display(d)\n'),
  };
  for (const [name, script] of Object.entries(scripts)) {
    assert.ok(script.length <= MAX_SCRIPT, name);
    const { ms, error } = outcome(script);
    assert.ok(error === undefined || error.code === 'PXL_LIMIT', `${name}: ${error?.code} ${error?.message}`);
    assert.ok(ms < 1000, `${name}: ${ms.toFixed(0)} ms (${error?.message ?? 'compiled'})`);
  }
});

test('a compile past its time bound stops with PXL_LIMIT', () => {
  const { error } = outcome(fill(HEAD, () => 'x = 1 + 1\n'), { ...fixedOptions, compileMs: 1 });
  assert.equal(error?.code, 'PXL_LIMIT');
  assert.equal(error.message, 'compiling the script took longer than 1 ms');
  assert.equal(LIMITS.compileMs, 500);
});
