import assert from 'node:assert/strict';
import { test } from 'node:test';
import { registryEntries } from '../registry.js';
import { AGGREGATE_NAMES } from './aggregates.js';
import { functionNames, hasFunction } from './expr.js';

test('every registry entry the planner can emit has an executor implementation', () => {
  const missing: string[] = [];
  for (const e of registryEntries()) {
    if (e.kind === 'cast') continue; // folded into semantic types by the planner
    const ok = e.kind === 'aggregate' ? (AGGREGATE_NAMES as readonly string[]).includes(e.name) : hasFunction(e.name);
    if (!ok) missing.push(`${e.kind} ${e.name}`);
  }
  assert.deepEqual(missing, []);
});

test('the executor implements nothing the registry does not name', () => {
  const names = new Set(registryEntries().map((e) => e.name));
  // `concat` is the string form of `add` that a planner may name directly.
  const extra = functionNames().filter((n) => !names.has(n) && n !== 'concat');
  assert.deepEqual(extra, []);
});
