import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PxlError } from '../diagnostic.js';
import type { MacroRef } from '../parse/token.js';
import { grafanaDurationText, macroText, macroValue, type MacroContext } from './macros.js';

const at = { start: { line: 1, column: 1 }, end: { line: 1, column: 2 } };
const ref = (name: string, call = false): MacroRef => ({ name, call, span: at });
// 2023-11-14T22:13:20.250Z to five minutes later, 30 s interval.
const ctx: MacroContext = {
  fromNs: 1_700_000_000_250_000_000n,
  toNs: 1_700_000_300_250_000_000n,
  intervalNs: 30_000_000_000n,
  variables: { svc: 'default/a', many: ['x', 'y'] },
};

test("Grafana's duration text: the largest whole unit", () => {
  assert.deepEqual([30_000, 60_000, 90_000, 300_000, 3_600_000, 86_400_000, 200, 1500, 0.5].map(grafanaDurationText), [
    '30s', '1m', '1m', '5m', '1h', '1d', '200ms', '1s', '0ms',
  ]);
});

test('macros in code are typed constants', () => {
  const v = (name: string, call = false) => {
    const m = macroValue(ref(name, call), ctx);
    return m.kind === 'const' ? [m.type, m.value, m.unit] : m.kind;
  };
  assert.deepEqual(v('__interval'), ['INT64', 30_000_000_000n, undefined]);
  assert.deepEqual(v('__interval_ms'), ['INT64', 30_000n, undefined]);
  assert.deepEqual(v('__from'), ['INT64', 1_700_000_000_250n, 'ms']);
  assert.deepEqual(v('__to'), ['INT64', 1_700_000_300_250n, 'ms']);
  assert.deepEqual(v('__timeFrom', true), ['TIME64NS', ctx.fromNs, undefined]);
  assert.deepEqual(v('__timeTo', true), ['TIME64NS', ctx.toNs, undefined]);
  assert.deepEqual(v('__range'), ['INT64', 300_000_000_000n, undefined]);
  assert.deepEqual(v('__range_ms'), ['INT64', 300_000n, undefined]);
  assert.deepEqual(v('__range_s'), ['INT64', 300n, undefined]);
  assert.deepEqual(v('svc'), ['STRING', 'default/a', undefined]);
  const many = macroValue(ref('many'), ctx);
  assert.ok(many.kind === 'list' && many.items.map((i) => (i.kind === 'const' ? i.value : '?')).join() === 'x,y');
});

test('macros inside strings are Grafana text', () => {
  const t = (name: string, call = false) => macroText(ref(name, call), ctx);
  assert.deepEqual(
    [t('__interval'), t('__interval_ms'), t('__from'), t('__to'), t('__timeFrom', true), t('__range'), t('__range_s'), t('svc'), t('many')],
    ['30s', '30000', '1700000000250', '1700000300250', '2023-11-14T22:13:20.250Z', '5m', '300', 'default/a', 'x,y'],
  );
});

test('misused macros are errors with the right codes', () => {
  const code = (f: () => unknown) => {
    try {
      f();
    } catch (err) {
      return err instanceof PxlError ? err.diagnostic.code : String(err);
    }
    return 'no error';
  };
  assert.equal(code(() => macroValue(ref('__timeFrom'), ctx)), 'PXL_MACRO');
  assert.equal(code(() => macroValue(ref('__interval', true), ctx)), 'PXL_MACRO');
  assert.equal(code(() => macroValue(ref('__nope'), ctx)), 'PXL_MACRO');
  assert.equal(code(() => macroValue(ref('nope'), ctx)), 'PXL_VARIABLE');
  assert.equal(code(() => macroText(ref('nope'), ctx)), 'PXL_VARIABLE');
});

test('a variable whose text is a Python number is a number in code, keeping its text; anything else a string', () => {
  const vars: MacroContext = { ...ctx, variables: { max: '1000', neg: '-2.5', sci: '1e9', big: '99999999999999999999', id: '007', word: '12ab', codes: ['200', '404'] } };
  const v = (name: string) => {
    const m = macroValue(ref(name), vars);
    return m.kind === 'const' ? [m.type, m.value, m.text] : m.kind === 'list' ? m.items.map((i) => (i.kind === 'const' ? [i.type, i.value] : i.kind)) : m.kind;
  };
  assert.deepEqual(v('max'), ['INT64', 1000n, '1000']);
  assert.deepEqual(v('neg'), ['FLOAT64', -2.5, '-2.5']);
  assert.deepEqual(v('sci'), ['FLOAT64', 1e9, '1e9']);
  // Past INT64, and Python's rejected leading zero, stay text.
  assert.deepEqual(v('big'), ['STRING', '99999999999999999999', undefined]);
  assert.deepEqual(v('id'), ['STRING', '007', undefined]);
  assert.deepEqual(v('word'), ['STRING', '12ab', undefined]);
  assert.deepEqual(v('codes'), [['INT64', 200n], ['INT64', 404n]]);
  assert.equal(macroText(ref('max'), vars), '1000');
});

test('$__columns: the picked names spliced as a list; none picked means every column', () => {
  const picked = macroValue(ref('__columns'), { ...ctx, columns: ['req_path', 'latency'] });
  assert.ok(picked.kind === 'list' && picked.spread === true && picked.allColumns === undefined);
  assert.deepEqual(picked.items.map((i) => (i.kind === 'const' ? i.value : i.kind)), ['req_path', 'latency']);
  const none = macroValue(ref('__columns'), ctx);
  assert.ok(none.kind === 'list' && none.items.length === 0 && none.allColumns === true);
  assert.equal(macroText(ref('__columns'), { ...ctx, columns: ['a', 'b'] }), 'a,b');
});
