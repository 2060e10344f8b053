import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fixedOptions, httpCatalog, loadScript } from '../../../testkit/pxl-scripts/scripts.js';
import { compile } from '../compile.js';
import { DDSketch, quantileValues } from '../functions/aggregates/sketch.js';
import { inputsOf, type LogicalPlan } from '../plan/logical.js';
import { createAgg, decodePartial, encodePartial, registryEntries } from '../functions/registry.js';
import { Store } from '../../store/store.js';
import { runPartial } from './engine/run.js';
import { LINE_BYTES } from './wire/messages.js';
import { METADATA_FNS } from '../functions/metadata.js';
import { LookupMetadata } from './broker/metadata.js';
import { Merger } from './broker/merge.js';
import { engineMayMatch, splitProgram } from './broker/split.js';
import { explainDistributed } from './broker/explain.js';
import { checkPartialRequest } from './engine/check.js';

function split(script: string): ReturnType<typeof splitProgram> {
  return splitProgram(compile(script, fixedOptions, httpCatalog).program);
}

/** The kinds of a leaf pipeline's nodes, top down to its source. */
function kinds(p: LogicalPlan): string[] {
  return p.kind === 'source' ? [p.kind] : [p.kind, ...kinds(inputsOf(p)[0]!)];
}

test('a script splits at its first aggregate; identical leaves are sent once', () => {
  const d = split(loadScript('service_map'));
  // service_let_graph() runs for the sources, the targets and the edges: after pruning, the
  // two node outputs read the same columns (one fragment), the edges others (a second).
  assert.equal(d.fragments.length, 2);
  assert.ok(d.fragments.every((f) => f.plan.kind === 'agg'));
  assert.equal(d.fragments[0]!.plan.kind, 'agg');
  assert.deepEqual(d.fragments[0]!.plan.kind === 'agg' && d.fragments[0]!.plan.groups, ['timestamp', 'service', 'remote_addr', 'pod', 'trace_role']);
  // The lookups the broker-side maps need, routed to the group keys they are applied to.
  assert.deepEqual(
    d.fragments[0]!.lookups.map((l) => `${l.fns.join('>')}(${l.column})`).sort(),
    ['ip_to_pod_id(remote_addr)', 'ip_to_pod_id>pod_id_to_pod_name(remote_addr)', 'ip_to_service_id(remote_addr)', 'ip_to_service_id>service_id_to_service_name(remote_addr)', 'pod_name_to_pod_ip(pod)'],
  );
  assert.deepEqual(
    d.upper.outputs.map((o) => o.name),
    ['nodes', 'edges'],
  );
});

test('head() is pushed down as a limit and kept on the broker; no aggregate ships rows', () => {
  const d = split(loadScript('raw_events'));
  assert.equal(d.fragments.length, 1);
  assert.deepEqual(kinds(d.fragments[0]!.plan).slice(0, 1), ['limit']);
  assert.equal(d.upper.outputs[0]!.plan.kind, 'limit');
  const raw = splitProgram(compile(loadScript('throughput'), fixedOptions, httpCatalog).program, { partialAggregates: false });
  assert.notEqual(raw.fragments[0]!.plan.kind, 'agg');
});

test('ctx equality filters become constraints that rule engines out by what they report', () => {
  const d = split(`import px
df = px.DataFrame(table='http_events', start_time=__time_from)
df.ns = df.ctx['namespace']
df = df[df.ns == 'prod' or df.ns == 'stage']
df = df[df.ctx['node'] == 'n1']
df = df.groupby('ns').agg(n=('latency', px.count))
px.display(df)`);
  const f = d.fragments[0]!;
  assert.deepEqual(f.constraints.map((c) => `${c.key}=${c.values.join('|')}`).sort(), ['namespace=prod|stage', 'node=n1']);
  assert.equal(engineMayMatch({ node: 'n1' }, f), true);
  assert.equal(engineMayMatch({ node: 'n2' }, f), false);
  assert.equal(engineMayMatch({ node: '' }, f), true, 'an engine that does not know its node is always asked');
  assert.equal(engineMayMatch({ node: 'n1', namespaces: ['dev'] }, f), false);
  assert.equal(engineMayMatch({ node: 'n1', namespaces: ['stage', 'dev'] }, f), true);
});

test('fragments survive the wire: exact INT64 and TIME64NS literals, NaN', () => {
  const d = split(`import px
df = px.DataFrame(table='http_events', start_time=__time_from)
df = df[df.latency > 9007199254740993 or df.time_ > __time_from]
df.x = df.latency * 0.5
px.display(df[['x']])`);
  const body = JSON.parse(JSON.stringify({ nowNs: '5', fragments: d.fragments.map((f) => ({ id: f.id, plan: f.wire, lookups: f.lookups })) })) as unknown;
  const checked = checkPartialRequest(body, httpCatalog);
  const mine = d.fragments[0]!.plan;
  const strip = (p: unknown): unknown => JSON.parse(JSON.stringify(p, (k, v: unknown) => (k === 'semantic' || k === 'doc' ? undefined : typeof v === 'bigint' ? `${v}n` : v)));
  assert.deepEqual(strip(checked.fragments[0]!.plan), strip(mine));
  assert.equal(checked.nowNs, 5n);
});

test('partial states merge exactly through JSON: big sums, times from engines with other bases, sketches', () => {
  const roundTrip = (fn: string, argType: 'INT64' | 'TIME64NS' | 'FLOAT64', p: unknown, from: bigint, to: bigint): unknown =>
    decodePartial(fn, argType, JSON.parse(JSON.stringify(encodePartial(fn, argType, p, from))), to);
  // INT64 sums past 2^53 stay exact.
  const a = createAgg('sum', 'INT64', 'INT64');
  a.grow(1);
  a.update(Int32Array.of(0, 0), null, { t: 'big', d: BigInt64Array.of(2n ** 62n, 1n) });
  const b = createAgg('sum', 'INT64', 'INT64');
  b.grow(1);
  b.merge(0, roundTrip('sum', 'INT64', a.partial(0), 0n, 0n));
  b.merge(0, roundTrip('sum', 'INT64', a.partial(0), 0n, 0n));
  const s = b.finalize(1);
  assert.equal(s.t === 'big' ? s.d[0] : undefined, BigInt.asIntN(64, 2n * (2n ** 62n + 1n)));
  // min(time_) on an engine whose offsets start at 1000 s, merged on a broker starting at 10 s.
  assert.equal(roundTrip('min', 'TIME64NS', 5e9, 1000_000_000_000n, 10_000_000_000n), 995e9);
  assert.equal(roundTrip('max', 'TIME64NS', null, 0n, 0n), null);
  // Two engines' sketches merged = one sketch of all the values, bucket for bucket.
  const q1 = createAgg('quantiles', 'FLOAT64', 'STRING');
  const q2 = createAgg('quantiles', 'FLOAT64', 'STRING');
  const all = new DDSketch();
  const xs = Array.from({ length: 2000 }, (_, i) => 1e5 * (1 + ((i * 7919) % 997)));
  q1.grow(1);
  q2.grow(1);
  q1.update(new Int32Array(1000), null, { t: 'num', d: Float64Array.from(xs.slice(0, 1000)) });
  q2.update(new Int32Array(1000), null, { t: 'num', d: Float64Array.from(xs.slice(1000)) });
  for (const x of xs) all.add(x);
  const merged = createAgg('quantiles', 'FLOAT64', 'STRING');
  merged.grow(1);
  merged.merge(0, roundTrip('quantiles', 'FLOAT64', q1.partial(0), 0n, 0n));
  merged.merge(0, roundTrip('quantiles', 'FLOAT64', q2.partial(0), 0n, 0n));
  const out = merged.finalize(1);
  assert.deepEqual(JSON.parse(out.t === 'str' ? out.dict[out.c[0]!]! : '{}'), quantileValues(all));
});

test('every px metadata lookup function is one the broker can route and answer', () => {
  // A lookup the broker did not know would be evaluated there against no metadata: '' for all.
  const lookups = registryEntries().filter((e) => e.kind === 'scalar' && /^(upid|ip|pod_id|pod_name|service_id|service_name|container_id)_to_/.test(e.name));
  assert.equal(lookups.length, 29);
  assert.deepEqual([...METADATA_FNS.keys()].sort(), lookups.map((e) => e.name).sort());
  const md = new LookupMetadata();
  // The key is a upid of agent 7, pid 42: the asid is read from the upid itself, on any node.
  const k = '00000007-0000-002a-0000-000000000001';
  const answer = (fn: string): string | number => (fn === 'upid_to_pid' ? 42 : fn === 'upid_to_asid' ? 7 : `${fn}-answer`);
  for (const fn of METADATA_FNS.keys()) md.add(fn, { [k]: answer(fn) });
  for (const [fn, f] of METADATA_FNS) assert.equal(f(md, k), answer(fn), fn);
});

/** 300 rows of 40 kB (as requests with big headers), one of them 3 MiB, as a rows fragment. */
function wideRows(): { store: Store; req: ReturnType<typeof checkPartialRequest> } {
  const store = new Store();
  store.create({ name: 'wide', fields: [{ name: 'time_', type: 'TIME64NS' }, { name: 's', type: 'STRING' }] });
  store.append(
    'wide',
    Array.from({ length: 300 }, (_, i) => ({ time_: BigInt(i), s: String.fromCharCode(97 + (i % 26)).repeat(i === 7 ? 3 << 20 : 40_000) })),
  );
  const plan = { kind: 'source', table: 'wide', columns: ['s'], startNs: null, endNs: null };
  return { store, req: checkPartialRequest({ nowNs: '0', fragments: [{ id: '0', plan, lookups: [] }] }, store) };
}

test('engines cut answer lines at about LINE_BYTES however wide the rows; a row wider than that travels alone', async () => {
  const { store, req } = wideRows();
  const lines = [];
  for await (const l of runPartial(req, store, { metadata: new LookupMetadata(), signal: new AbortController().signal, maxRows: 1_000_000 })) lines.push(l);
  const rows = lines.filter((l) => l.t === 'rows');
  assert.equal(
    rows.reduce((a, l) => a + l.n, 0),
    300,
  );
  for (const l of rows) {
    const bytes = JSON.stringify(l).length;
    if (l.n === 1 && l.data[0]![0] === 'h'.repeat(3 << 20)) continue;
    assert.ok(bytes <= LINE_BYTES + 40_100, `a line of ${l.n} rows is ${bytes} bytes`);
  }
  assert.ok(rows.some((l) => l.n === 1 && String(l.data[0]![0]).length === 3 << 20), 'the wide row on a line of its own');
  assert.ok(rows.length >= 300 / 26, `${rows.length} lines`);
});

test('a rows fragment stops at its byte bound on the engine, and the broker keeps no more than its own', async () => {
  const { store, req } = wideRows();
  const lines = [];
  for await (const l of runPartial(req, store, { metadata: new LookupMetadata(), signal: new AbortController().signal, maxRows: 1_000_000, maxBytes: 2 << 20 })) lines.push(l);
  const rows = lines.filter((l) => l.t === 'rows');
  const sentBytes = rows.reduce((a, l) => a + JSON.stringify(l.data).length, 0);
  // The bound is checked per line: at most one line (about LINE_BYTES, or the one wide row) over.
  assert.ok(sentBytes > 2 << 20 && sentBytes < (2 << 20) + (3 << 20) + LINE_BYTES, `${sentBytes} bytes sent`);
  const end = lines.at(-1)!;
  assert.ok(end.t === 'end' && end.warnings.some((w) => w.code === 'RESULT_TRUNCATED' && /2097152 bytes/.test(w.message)), JSON.stringify(end));

  const dist = split("import px\ndf = px.DataFrame(table='http_events')\npx.display(df[['req_path']])");
  const merger = new Merger(dist, 0n, 1_000_000, 1 << 20);
  const id = dist.fragments[0]!.id;
  for (let i = 0; i < 10; i++) merger.accept({ t: 'rows', fragment: id, n: 100, data: [Array.from({ length: 100 }, () => 'p'.repeat(10_000))] });
  let kept = 0;
  for (const b of merger.source().get(`__fragment_${id}`)!.scan(0n, 0n)) kept += b.rows;
  assert.equal(kept, Math.floor((1 << 20) / 10_002));
  assert.deepEqual(merger.truncatedFragments(), [id]);
});

test('explain shows each fragment as an engine plans it and the broker part over the merged fragments', () => {
  const d = split(`import px
df = px.DataFrame(table='http_events', start_time=__time_from)
df.service = df.ctx['service']
df = df.groupby('service').agg(n=('latency', px.count))
df.per_s = df.n / 300
px.display(df, 'rates')`);
  assert.deepEqual(explainDistributed(d, httpCatalog, fixedOptions.nowNs).split('\n'), [
    'fragment 0, on each engine (sends partial aggregates):',
    '  FusedAggExec by [service] n=px.count(latency) (fused loop #1)',
    '    MapExec [latency, service=px.upid_to_service_name(upid)]  [folded into the loop]',
    '      ScanExec http_events [upid, latency] time_ from 2023-11-14T22:13:20.000Z to unbounded  [folded into the loop]',
    "output 'rates', on the broker:",
    '  MapExec [service, n, per_s=(n / 300)]',
    '    ScanExec __fragment_0 [service, n] time_ from unbounded to unbounded',
  ]);
});
