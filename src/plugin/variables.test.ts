import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ScopedVars, TypedVariableModel } from '@grafana/data';

import { buildQueryRequest } from './request.js';
import { collectVariables } from './variables.js';
import type { VariableSource } from './variables.js';

// A test double of Grafana's TemplateSrv (which lives in Grafana's core, not in a package): it
// honours the contract collectVariables relies on — a function format receives the variable's
// value, an array when several values are selected, scoped values first.
function templateSrv(vars: Record<string, string | string[]>): VariableSource {
  return {
    getVariables: () => Object.keys(vars).map((name) => ({ name }) as TypedVariableModel),
    replace(target?: string, scoped?: ScopedVars, format?: string | Function): string {
      const name = /^\$\{(\w+)\}$/.exec(target ?? '')?.[1] ?? '';
      const value = scoped?.[name]?.value ?? vars[name];
      if (value === undefined || typeof format !== 'function') {
        return target ?? '';
      }
      return String(format(value));
    },
  };
}

test('single and multi-value variables become strings and lists; the script is not touched', () => {
  const vars = collectVariables(templateSrv({ service: 'default/frontend', ns: ['default', 'kube-system'] }));
  assert.deepEqual(vars, { service: 'default/frontend', ns: ['default', 'kube-system'] });
  const script = "df = df[df.ctx['service'] == $service]\nx = '${ns}'\nt = __time_from";
  const body = buildQueryRequest(
    script,
    { range: { from: 1700000000000, to: 1700000300000 }, intervalMs: 15000, maxDataPoints: 640 },
    vars
  );
  assert.deepEqual(body, {
    script,
    range: { from: 1700000000000, to: 1700000300000 },
    intervalMs: 15000,
    maxDataPoints: 640,
    variables: { service: 'default/frontend', ns: ['default', 'kube-system'] },
  });
});

test('scoped values (repeated panels) win, Grafana macros are left to the engine', () => {
  const scoped: ScopedVars = {
    service: { text: 'cart', value: 'default/cart' },
    __interval: { text: '15s', value: '15s' },
    pod: { text: 'p', value: ['a', 'b'] },
  };
  assert.deepEqual(collectVariables(templateSrv({ service: 'default/frontend' }), scoped), {
    service: 'default/cart',
    pod: ['a', 'b'],
  });
});

test('no variables and no interval: the body carries only script and range', () => {
  const body = buildQueryRequest('px.display(df)', { range: { from: 1, to: 2 }, intervalMs: 0 }, {});
  assert.deepEqual(body, { script: 'px.display(df)', range: { from: 1, to: 2 } });
});

test('a picked function and picked columns go in the body; none picked, neither does', () => {
  const call = { name: 'requests_of', args: { start_time: '-5m', prefix: '/feat/' } };
  const body = buildQueryRequest('def requests_of(start_time, prefix): ...', { range: { from: 1, to: 2 } }, {}, [], { function: call, columns: ['req_path'] });
  assert.deepEqual(body.function, call);
  assert.deepEqual(body.columns, ['req_path']);
  const none = buildQueryRequest('px.display(df)', { range: { from: 1, to: 2 } }, {}, [], { function: { name: '', args: {} }, columns: [] });
  assert.deepEqual(none, { script: 'px.display(df)', range: { from: 1, to: 2 } });
});
