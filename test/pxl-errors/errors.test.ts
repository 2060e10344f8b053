import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { compile } from '../../src/engine/pxl/compile.js';
import { PxlError, type Span } from '../../src/engine/pxl/diagnostic.js';
import { fixedOptions, httpCatalog } from '../../src/testkit/pxl-scripts/scripts.js';

/**
 * Marker-based error tests (DataFusion style): each case in cases.txt marks the offending text
 * with «...»; the compiler's error must carry the case's code and message and span exactly the
 * marked text.
 */

interface Case {
  readonly name: string;
  readonly code: string;
  readonly message: string;
  readonly hint?: string;
  readonly script: string;
  readonly span: Span;
  readonly line: number;
}

const FILE = fileURLToPath(new URL('../../../test/pxl-errors/cases.txt', import.meta.url));

/** Strips the markers and turns their offsets into a 1-based line:column span. */
function unmark(marked: string): { script: string; span: Span } {
  const open = marked.indexOf('«');
  const close = marked.indexOf('»');
  assert.ok(open >= 0 && close > open, 'a case needs one «...» marker');
  const script = marked.slice(0, open) + marked.slice(open + 1, close) + marked.slice(close + 1);
  const pos = (offset: number) => {
    const before = script.slice(0, offset);
    const line = before.split('\n').length;
    return { line, column: offset - (before.lastIndexOf('\n') + 1) + 1 };
  };
  return { script, span: { start: pos(open), end: pos(close - 1) } };
}

function loadCases(): Case[] {
  const cases: Case[] = [];
  const lines = readFileSync(FILE, 'utf8').split('\n');
  let i = 0;
  while (i < lines.length) {
    if (lines[i]!.startsWith('#') || lines[i]!.trim() === '') {
      i++;
      continue;
    }
    const start = i + 1;
    const head: Record<string, string> = {};
    while (lines[i] !== '---') {
      const m = /^(\w+): (.*)$/.exec(lines[i]!);
      assert.ok(m, `cases.txt:${i + 1}: expected 'key: value' or '---'`);
      head[m[1]!] = m[2]!;
      i++;
    }
    i++;
    const body: string[] = [];
    while (lines[i] !== '===') body.push(lines[i++]!);
    i++;
    const { script, span } = unmark(body.join('\n') + '\n');
    cases.push({ name: head.name!, code: head.code!, message: head.message!, hint: head.hint, script, span, line: start });
  }
  return cases;
}

const cases = loadCases();

test('the error corpus holds at least 30 cases with distinct names', () => {
  assert.ok(cases.length >= 30, `${cases.length} cases`);
  assert.equal(new Set(cases.map((c) => c.name)).size, cases.length);
});

for (const c of cases) {
  test(`error: ${c.name} (cases.txt:${c.line})`, () => {
    let caught: unknown;
    try {
      compile(c.script, fixedOptions, httpCatalog);
    } catch (err) {
      caught = err;
    }
    assert.ok(caught instanceof PxlError, `expected a PxlError, got ${String(caught)}`);
    const d = caught.diagnostic;
    assert.equal(d.code, c.code, d.message);
    assert.equal(d.message, c.message);
    assert.deepEqual(d.span, c.span, `span of: ${d.message}`);
    if (c.hint) assert.ok(d.hints.some((h) => h.includes(c.hint!)), `no hint containing '${c.hint}' in ${JSON.stringify(d.hints)}`);
  });
}
