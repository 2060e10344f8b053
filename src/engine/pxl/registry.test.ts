import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fixedOptions, httpCatalog } from '../../../test/pxl-scripts/scripts.js';
import { compile } from './compile.js';
import type { Expr, LogicalPlan } from './plan/logical.js';
import { pxFunction, registryEntries } from './registry.js';

/** Columns the registry's examples refer to, built the way scripts build them. */
const PRELUDE = `import px
window_ns = px.DurationNanos(10 * 1000 * 1000 * 1000)
df = px.DataFrame(table='http_events')
df.pod = df.ctx['pod']
df.service = df.ctx['service']
df.pod_id = df.ctx['pod_id']
df.service_id = df.ctx['service_id']
df.failure = df.resp_status >= 400
df.a = df.failure
df.b = df.encrypted
df.q = '{"p50": 1.0}'
df.latency_quantiles = df.q
df.per_ns = df.latency / 7
df.count = df.latency
df.errors = df.latency
df.source = df.req_path
df.target = df.req_path
df.time_min = df.time_
df.time_max = df.time_
`;

function callNames(plan: LogicalPlan, into: Set<string>): Set<string> {
  const expr = (e: Expr): void => {
    if (e.kind === 'call') {
      into.add(e.fn);
      e.args.forEach(expr);
    }
  };
  switch (plan.kind) {
    case 'source':
      break;
    case 'filter':
      expr(plan.predicate);
      callNames(plan.input, into);
      break;
    case 'map':
      plan.exprs.forEach((x) => expr(x.expr));
      callNames(plan.input, into);
      break;
    case 'agg':
      plan.aggs.forEach((a) => into.add(a.fn));
      callNames(plan.input, into);
      break;
    case 'join':
      callNames(plan.left, into);
      callNames(plan.right, into);
      break;
    case 'union':
      plan.inputs.forEach((i) => callNames(i, into));
      break;
    case 'limit':
      callNames(plan.input, into);
      break;
  }
  return into;
}

test('registry names are unique and every non-operator is reachable as px.<name>', () => {
  const names = registryEntries().map((e) => e.name);
  assert.equal(new Set(names).size, names.length);
  for (const e of registryEntries()) {
    if (e.kind === 'operator') assert.equal(pxFunction(e.name), undefined, e.name);
    else assert.equal(pxFunction(e.name), e, e.name);
    assert.ok(e.signatures.length > 0 && e.doc.length > 0 && e.example.length > 0, e.name);
  }
});

test("every entry's documented example compiles and uses the entry", () => {
  const folded = new Set(['now', 'parse_duration', 'parse_time']);
  for (const e of registryEntries()) {
    let line: string;
    if (e.kind === 'aggregate') line = `df = df.groupby('req_path').agg(${e.example})`;
    else if (/^(df(\.\w+|\[[^\]]*\])* = |\w+ = )/.test(e.example)) line = e.example;
    else if (e.example.startsWith('df[')) line = `df = ${e.example}`;
    else line = `df.out = ${e.example}`;
    const script = `${PRELUDE}${line}\npx.display(df)\n`;
    let plan: LogicalPlan;
    try {
      plan = compile(script, fixedOptions, httpCatalog).program.outputs[0]!.plan;
    } catch (err) {
      assert.fail(`${e.name}: example '${e.example}' fails: ${String(err)}`);
    }
    if (e.kind === 'cast' || folded.has(e.name)) continue;
    assert.ok(callNames(plan, new Set()).has(e.name), `${e.name}: example '${e.example}' does not call it`);
  }
});
