import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compile } from '../../src/engine/pxl/compile.js';
import { PxlError } from '../../src/engine/pxl/diagnostic.js';
import { fixedOptions, httpCatalog, loadScript, scriptNames } from '../../src/testkit/pxl-scripts/scripts.js';
import { rng } from '../../src/testkit/rng.js';

/**
 * Fuzzing the compiler with mutated and random scripts: every input must compile or fail with
 * a PxlError whose span lies inside the script, and no input may take long. Seeded, so a
 * failure names the input that reproduces it.
 */


const VOCAB = [
  'px', 'df', 'import', 'def', 'return', 'and', 'or', 'not', 'if', 'for', 'in', 'lambda', 'None', 'True', 'False',
  '(', ')', '[', ']', '{', '}', ',', ':', '.', '=', '==', '!=', '<', '>=', '+', '-', '*', '/', '//', '%', '**',
  "'", '"', "'''", '\\', '\n', '\n    ', '\t', '#', '$', '${', '}', '$__interval', '$__timeFrom()', '$__from', '$service',
  '__time_from', '__interval', 'px.DataFrame', "table='http_events'", 'px.display', 'df.latency', "df.ctx['pod']",
  'df.groupby', '.agg', "('latency', px.count)", 'px.bin', 'px.quantiles', 'px.select', 'merge', 'append', 'head',
  '1e9', '1_000', '0x1f', '9999999999999999999999', '-', '1.5', "'-5m'", "f'x'", 'r"\\d+"', '\u00e9', '\u{1F600}', ';',
];

function mutate(src: string, r: () => number): string {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  let s = src;
  const edits = 1 + Math.floor(r() * 4);
  for (let i = 0; i < edits; i++) {
    const at = Math.floor(r() * (s.length + 1));
    switch (Math.floor(r() * 5)) {
      case 0:
        s = s.slice(0, at) + s.slice(at + 1 + Math.floor(r() * 12));
        break;
      case 1:
        s = s.slice(0, at) + pick(VOCAB) + s.slice(at);
        break;
      case 2: {
        const lines = s.split('\n');
        const k = Math.floor(r() * lines.length);
        lines.splice(k, 0, lines[Math.floor(r() * lines.length)]!);
        s = lines.join('\n');
        break;
      }
      case 3: {
        const lines = s.split('\n');
        const a = Math.floor(r() * lines.length);
        const b = Math.floor(r() * lines.length);
        [lines[a], lines[b]] = [lines[b]!, lines[a]!];
        s = lines.join('\n');
        break;
      }
      default:
        s = s.slice(0, at) + String.fromCharCode(32 + Math.floor(r() * 95)) + s.slice(at + 1);
    }
  }
  return s;
}

function randomScript(r: () => number): string {
  const n = 1 + Math.floor(r() * 60);
  const parts: string[] = [];
  for (let i = 0; i < n; i++) parts.push(VOCAB[Math.floor(r() * VOCAB.length)]!);
  return parts.join(r() < 0.5 ? ' ' : '');
}

function check(script: string, label: string): void {
  const t0 = performance.now();
  try {
    compile(script, fixedOptions, httpCatalog);
  } catch (err) {
    if (!(err instanceof PxlError)) {
      assert.fail(`${label}: ${String(err)}\n--- input ---\n${script}`);
    }
    const d = err.diagnostic;
    assert.match(d.code, /^PXL_[A-Z_]+$/, label);
    if (d.span) {
      const lines = script.split(/\r\n|\r|\n/).length;
      assert.ok(d.span.start.line >= 1 && d.span.start.line <= lines + 1, `${label}: span line ${d.span.start.line} of ${lines}`);
      assert.ok(d.span.start.column >= 1, label);
      const endsAfter = d.span.end.line > d.span.start.line || (d.span.end.line === d.span.start.line && d.span.end.column >= d.span.start.column);
      assert.ok(endsAfter, `${label}: span ends before it starts: ${JSON.stringify(d.span)}`);
    }
  }
  const ms = performance.now() - t0;
  assert.ok(ms < 1000, `${label}: took ${ms.toFixed(0)} ms\n--- input ---\n${script}`);
}

test('mutated scripts compile or fail with a PxlError, never a crash or a hang', () => {
  const seeds = scriptNames().map((n) => loadScript(n));
  const r = rng(0x5eed);
  const deadline = performance.now() + 4000;
  let runs = 0;
  while (runs < 3000 && performance.now() < deadline) {
    const base = seeds[runs % seeds.length]!;
    check(mutate(base, r), `mutation #${runs}`);
    runs++;
  }
  assert.ok(runs >= 200, `only ${runs} runs`);
});

test('random token soup compiles or fails with a PxlError', () => {
  const r = rng(42);
  const deadline = performance.now() + 2000;
  let runs = 0;
  while (runs < 5000 && performance.now() < deadline) {
    check(randomScript(r), `random #${runs}`);
    runs++;
  }
  assert.ok(runs >= 200, `only ${runs} runs`);
});

test('pathological nesting and length fail with PXL_LIMIT, not a stack overflow', () => {
  const cases = [
    'x = ' + '('.repeat(5000) + '1' + ')'.repeat(5000),
    'x = ' + '-'.repeat(5000) + '1',
    'x = ' + 'not '.repeat(5000) + 'True',
    'x = ' + Array(20000).fill('1').join(' + '),
    'x = ' + '['.repeat(3000) + ']'.repeat(3000),
    'import px\ndf = px.DataFrame(table="http_events")\na = df.latency\n' + 'a = a + 1\n'.repeat(20000) + 'df.a = a\npx.display(df)\n',
  ];
  for (const [i, script] of cases.entries()) {
    let caught: unknown;
    try {
      compile(script, fixedOptions, httpCatalog);
    } catch (err) {
      caught = err;
    }
    assert.ok(caught instanceof PxlError, `case ${i}: ${String(caught)}`);
    assert.equal(caught.diagnostic.code, 'PXL_LIMIT', `case ${i}: ${caught.diagnostic.message}`);
  }
});

test('exponential inlining is cut off by the call budget', () => {
  let script = 'import px\ndef f0():\n    return px.DataFrame(table="http_events")\n';
  for (let i = 1; i < 30; i++) script += `def f${i}():\n    a = f${i - 1}()\n    b = f${i - 1}()\n    return a.append(b)\n`;
  script += 'px.display(f29())\n';
  assert.throws(() => compile(script, fixedOptions, httpCatalog), (err: unknown) => err instanceof PxlError && err.diagnostic.code === 'PXL_LIMIT');
});
