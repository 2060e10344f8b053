import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fixedOptions, httpCatalog } from '../../../testkit/pxl-scripts/scripts.js';
import { compile } from '../compile.js';
import { exprsOf, forEachPlanNode, type LogicalPlan } from '../plan/logical.js';
import { forEachNode } from '../plan/walk.js';
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

/** Every function and aggregate a plan calls. */
function callNames(plan: LogicalPlan): Set<string> {
  const into = new Set<string>();
  forEachPlanNode([plan], (p) => {
    if (p.kind === 'agg') for (const a of p.aggs) into.add(a.fn);
    for (const e of exprsOf(p)) {
      forEachNode(e, (x) => {
        if (x.kind === 'call') into.add(x.fn);
      });
    }
  });
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
  // These take constants in their examples (as scripts use them), which fold away.
  const folded = new Set(['now', 'parse_duration', 'parse_time', 'pow', 'days', 'hours', 'minutes', 'seconds', 'milliseconds', 'microseconds']);
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
    assert.ok(callNames(plan).has(e.name), `${e.name}: example '${e.example}' does not call it`);
  }
});

test('every entry the planner can emit has its implementation, and nothing else does', () => {
  for (const e of registryEntries()) {
    // Casts are folded into semantic types by the planner; they never reach the executor.
    const has = { eval: e.eval !== undefined, agg: e.agg !== undefined };
    const want = { eval: e.kind === 'scalar' || e.kind === 'operator', agg: e.kind === 'aggregate' };
    assert.deepEqual(has, want, `${e.kind} ${e.name}`);
  }
});
