// What Grafana users of the best datasources expect, each in the built plugin in headless
// Chromium against a live `bin/wisp engine` capturing real traffic (issue 18): ad hoc filters
// (keys, values, a dashboard filter, "filter for value" on a table cell, Explore's filter on a
// log line), raw requests as logs (levels, details, a data link that lands on a working
// dashboard, the log volume), annotations (drawn where the engine's rows say), a dashboard
// exported from Pixie's plugin (its panels run unchanged), and superseded queries cancelled
// all the way to the engine. Every number is checked against the engine's own answer or the
// traffic the test made. Needs root (the engine loads BPF programs).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { ANNOTATION_PRESETS, QUERY_PRESETS } from '../../src/plugin/presets.js';
import type { WispQuery } from '../../src/plugin/types.js';
import { nodeServer, run } from '../support/peers.js';
import { artifacts, configure, drawnSeries, engineQuery, expectedSeries, nsToMs, openHarness, root } from './session.js';
import type { PanelResult } from './harness/panels.js';
import { startLiveEngine } from './liveEngine.js';

/** The page's range: the last two minutes, which hold all of the test's traffic. */
const PANEL_RANGE_MS = 2 * 60_000;

/** Requests per bin and method of the test's own traffic (paths under /feat/). */
const REQUESTS = `import px
df = px.DataFrame(table='http_events', start_time=__time_from, end_time=__time_to)
df = df[px.contains(df.req_path, '/feat/')]
df.timestamp = px.bin(df.time_, __interval)
df = df.groupby(['timestamp', 'req_method']).agg(requests=('latency', px.count))
df.time_ = df.timestamp
px.display(df[['time_', 'req_method', 'requests']], 'requests')
`;

/** The same traffic by status, as a table. */
const BY_STATUS = `import px
df = px.DataFrame(table='http_events', start_time=__time_from, end_time=__time_to)
df = df[px.contains(df.req_path, '/feat/')]
df = df.groupby('resp_status').agg(requests=('latency', px.count))
px.display(df, 'by_status')
`;

/** Seconds of work on ~3000 rows: six 9-million-row self-merges, each aggregated. */
const SLOW = `import px
df = px.DataFrame(table='http_events', start_time=__time_from, end_time=__time_to)
df = df[px.contains(df.req_path, '/slow/')]
df.k = 1
def pairs(n):
    m = df.merge(df, how='inner', left_on='k', right_on='k', suffixes=['', '_r'])
    m = m[m.latency_r > n]
    return m.agg(n=('latency', px.count), q=('latency_r', px.quantiles))
px.display(pairs(0), 'a')
px.display(pairs(1), 'b')
px.display(pairs(2), 'c')
px.display(pairs(3), 'd')
px.display(pairs(4), 'e')
px.display(pairs(5), 'f')
`;

/** A script library in Pixie's style: nothing displayed, a function run with arguments. */
const LIBRARY = `import px

def requests_of(start_time: str, prefix: str, max_rows: int = 100):
    """ Requests whose path holds a prefix, by status. """
    df = px.DataFrame(table='http_events', start_time=start_time)
    df = df[px.contains(df.req_path, prefix)]
    df = df.groupby('resp_status').agg(requests=('latency', px.count))
    return df.head(max_rows)
`;

/** Numeric dashboard variables in code and the column picker's $__columns. */
const PICKED = `import px
df = px.DataFrame(table='http_events', start_time=__time_from, end_time=__time_to)
df = df[px.contains(df.req_path, '$prefix')]
df = df.groupby(['resp_status', 'req_method']).agg(requests=('latency', px.count))
px.display(df[[$__columns]].head($max), 'picked')
`;

function total(answer: { tables: Array<{ data: unknown[][] }> }, column: number): number {
  return (answer.tables[0]?.data[column] ?? []).reduce((s: number, v) => s + Number(v), 0);
}

function sum(result: PanelResult, field: string): number {
  return result.frames.flatMap((f) => f.fields.filter((x) => x.name === field)).reduce((s, f) => s + f.values.reduce((a: number, v) => a + Number(v ?? 0), 0), 0);
}

test('Grafana features against a live engine: ad hoc filters, logs, annotations, a Pixie dashboard, cancellation', { timeout: 300_000 }, async (t) => {
  // --- A live engine with a token, and traffic whose statuses the test knows.
  const { url: engineUrl, token } = await startLiveEngine(t, 'features');
  const server = await nodeServer(`
import http from 'node:http';
const status = (url) => url.endsWith('7') ? 500 : url.endsWith('3') ? 404 : 200;
const s = http.createServer((req, res) => { res.writeHead(status(req.url), {'content-length': 2}); res.end('ok'); });
s.listen(0, '127.0.0.1', () => console.log('listening ' + s.address().port));`);
  t.after(() => server.stop());
  const client = fileURLToPath(new URL('../support/client.js', import.meta.url));
  const statuses = new Map<number, number>();
  const send = async (n: number, prefix: string) => {
    const r = await run(process.execPath, [client, '--url', `http://127.0.0.1:${server.port}`, '--n', String(n), '--concurrency', '4', '--prefix', prefix]);
    assert.equal(r.code, 0, r.stderr);
    if (prefix.startsWith('/feat/')) {
      for (const line of r.stdout.trim().split('\n')) {
        const s = (JSON.parse(line) as { status: number }).status;
        statuses.set(s, (statuses.get(s) ?? 0) + 1);
      }
    }
  };
  // Both sides of a 15 s boundary (the page's interval), so the panels draw series of two points.
  const boundary = Math.ceil((Date.now() + 2000) / 15_000) * 15_000;
  for (const at of [boundary - 1500, boundary + 500]) {
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, at - Date.now())));
    await send(200, `/feat/${at}/`);
  }
  await send(1500, '/slow/');
  await new Promise((resolve) => setTimeout(resolve, 1000));
  assert.deepEqual([...statuses.keys()].sort(), [200, 404, 500]);

  const to = Date.now();
  const from = to - PANEL_RANGE_MS;
  const session = await openHarness(t, { from, to });
  const { page, proxy } = session;
  await configure(page, engineUrl, token);
  /** The engine's own answer to what a panel of the page sends (interval and points as the page's). */
  const direct = (body: object) => engineQuery(engineUrl, token, { range: { from, to }, intervalMs: 15_000, maxDataPoints: 500, ...body });
  // Each scene starts on an empty page with no dashboard filters, whatever the one before left.
  const clear = () => page.evaluate(() => window.__wisp.runner!.clear());
  const scene = (name: string, fn: () => Promise<void>) =>
    t.test(name, async () => {
      await clear();
      await fn();
    });
  const shot = (name: string) => page.locator('#panels').screenshot({ path: path.join(artifacts, `feature-${name}.png`) });
  const panel = (spec: Parameters<NonNullable<Window['__wisp']['panel']>>[0]) => page.evaluate((s) => window.__wisp.panel!(s), spec);

  await scene('ad hoc filters: keys from the schema, values from the engine, a filter narrows a panel and the engine reports it', async () => {
    const keys = await page.evaluate(() => window.__wisp.runner!.ds.getTagKeys());
    const names = keys.map((k) => k.text);
    for (const k of ['resp_status', 'req_path', 'req_method', 'comm', 'service', 'pod']) assert.ok(names.includes(k), `key ${k} in ${names.join(', ')}`);
    assert.ok(!names.includes('time_') && !names.includes('upid'));
    const values = await page.evaluate(() => window.__wisp.runner!.ds.getTagValues({ key: 'resp_status', filters: [{ key: 'req_path', operator: '=~', value: '/feat/.*' }] }));
    assert.deepEqual(values.map((v) => v.text), ['200', '404', '500']);

    const target: WispQuery = { refId: 'A', script: REQUESTS };
    // Explore has no dashboard filters: the same query unfiltered, beside the dashboard panel.
    await panel({ id: 'unfiltered', title: 'Requests by method (Explore, no filter)', app: 'explore', targets: [target] });
    await page.evaluate(() => (window.__wisp.runner!.filters = [{ key: 'resp_status', operator: '=', value: '500' }]));
    const filtered = await panel({ id: 'requests', title: 'Requests by method (resp_status = 500)', targets: [target] });
    assert.deepEqual(filtered.errors, []);
    // What the page drew is the engine's answer to the script and the filter, as data…
    const answer = await direct({ script: REQUESTS, adhocFilters: [{ key: 'resp_status', operator: '=', value: '500' }] });
    assert.deepEqual(await drawnSeries(page, '#plot-requests'), expectedSeries(answer, 'requests'));
    // …which counts exactly the 500s the client got, once per side (both ends are traced).
    assert.equal(total(answer, 2), 2 * statuses.get(500)!);
    assert.equal(sum(filtered, 'requests'), 2 * statuses.get(500)!);
    // The engine said it applied the filter, and the panel shows it.
    assert.deepEqual(answer.adhocFilters, [{ key: 'resp_status', operator: '=', value: '500', appliedTo: ['http_events'] }]);
    const meta = filtered.frames[0]!.meta as { notices?: Array<{ severity: string; text: string }>; stats?: Array<{ displayName: string; value: number }> };
    assert.deepEqual(meta.notices, [{ severity: 'info', text: 'ad hoc filter resp_status = 500 applied to http_events' }]);
    // The engine's stats reach the query inspector.
    assert.deepEqual(meta.stats?.map((x) => x.displayName), ['Compile time', 'Execute time', 'Rows scanned', 'Bytes scanned']);
    assert.ok(meta.stats!.every((x) => x.value >= 0) && meta.stats![2]!.value > 0);
    const unfiltered = await direct({ script: REQUESTS });
    assert.equal(total(unfiltered, 2), 2 * 400);
    await shot('adhoc-filter');
  });

  await scene('"filter for value" on a table cell adds a dashboard filter; every panel runs again, narrowed', async () => {
    await panel({ id: 'requests', title: 'Requests by method', panelId: 1, targets: [{ refId: 'A', script: REQUESTS }] });
    const table = await panel({ id: 'status', title: 'Requests by status', type: 'table', panelId: 2, targets: [{ refId: 'A', script: BY_STATUS, format: 'table' }] });
    assert.equal(sum(table, 'requests'), 2 * 400);
    const last = table.seq;
    await page.click('#panel-status button.filter-for[data-key="resp_status"][data-value="404"]');
    await page.waitForFunction((seq) => window.__wisp.runner!.filters.length === 1 && [...window.__wisp.runner!.panels.values()].every((p) => p.result.seq > seq), last);
    const after = await page.evaluate(() => Object.fromEntries([...window.__wisp.runner!.panels.entries()].map(([id, p]) => [id, p.result])));
    assert.equal(sum(after.requests!, 'requests'), 2 * statuses.get(404)!);
    assert.deepEqual(after.status!.frames[0]!.fields.find((f) => f.name === 'resp_status')!.values, [404]);
    assert.deepEqual(await page.evaluate(() => window.__wisp.runner!.filters), [{ key: 'resp_status', operator: '=', value: '404' }]);
    // Filter out value: the opposite filter joins; none of the 200s remain.
    await page.click('#panel-status button.filter-out[data-key="resp_status"][data-value="404"]');
    await page.waitForFunction(() => window.__wisp.runner!.filters.length === 2);
    await page.waitForFunction(() => window.__wisp.runner!.panels.get('status')!.result.frames[0]!.length === 0);
  });

  await scene('raw requests as logs: a line per request with its level, details, a data link that lands on a working dashboard, and the log volume', async () => {
    const preset = QUERY_PRESETS.find((p) => p.id === 'requests_log')!;
    const spec = { id: 'explore', title: 'Explore: requests as logs', app: 'explore' as const, targets: [{ refId: 'A', script: preset.script.replace("df.head(1000)", "df[px.contains(df.req_path, '/feat/')].head(1000)"), format: preset.format }] };
    const logs = await panel(spec);
    assert.deepEqual(logs.errors, []);
    const frame = logs.frames[0]!;
    const meta = frame.meta as { type: string; typeVersion: number[]; preferredVisualisationType: string; executedQueryString: string };
    assert.deepEqual([meta.type, meta.typeVersion, meta.preferredVisualisationType], ['log-lines', [0, 0], 'logs']);
    assert.equal(meta.executedQueryString, spec.targets[0]!.script);
    const col = (name: string) => frame.fields.find((f) => f.name === name)!.values;
    assert.equal(frame.length, 800);
    const level: Record<number, string> = { 200: 'info', 404: 'warning', 500: 'error' };
    col('resp_status').forEach((s, i) => {
      assert.equal(col('severity')[i], level[Number(s)], `row ${i}`);
      assert.match(String(col('body')[i]), new RegExp(`^GET ${String(col('req_path')[i])} ${String(s)} \\d`));
    });
    assert.deepEqual(
      Object.fromEntries(['info', 'warning', 'error'].map((l) => [l, col('severity').filter((x) => x === l).length])),
      { info: 2 * statuses.get(200)!, warning: 2 * statuses.get(404)!, error: 2 * statuses.get(500)! }
    );
    // The page drew coloured lines, the first one's details with its fields.
    assert.equal(await page.locator('#panel-explore .log-row').count(), 25);
    assert.match((await page.locator('#panel-explore .log-details').textContent()) ?? '', /req_method\s*GET/);

    // The link from a line's service: the provisioned dashboard (the one plugin.json includes),
    // filtered on that service, over the same range.
    const dashboard = JSON.parse(readFileSync(path.join(root, 'provisioning/dashboards/http-overview.json'), 'utf8')) as {
      uid: string;
      templating: { list: Array<{ name: string; type: string; query: { script: string } }> };
      panels: Array<{ title: string; targets: WispQuery[] }>;
    };
    const links = logs.links.filter((l) => l.field === 'service');
    assert.equal(links.length, 800);
    const href = await page.getAttribute('#panel-explore .log-details a.data-link', 'href');
    assert.equal(href, links[0]!.href);
    const url = new URL(href!, 'http://grafana.invalid');
    assert.equal(url.pathname, `/d/${dashboard.uid}/http-overview`);
    assert.deepEqual([url.searchParams.get('from'), url.searchParams.get('to')], [String(from), String(to)]);
    const service = url.searchParams.get('var-service')!;
    assert.equal(service, col('service')[0]);
    // Landing there: the dashboard's service variable offers that value, and its request-rate
    // panel with it selected draws that service alone.
    await page.evaluate(() => window.__wisp.setVariables({ namespace: [] }));
    const offered = await page.evaluate((q) => window.__wisp.runner!.variableValues(q), dashboard.templating.list.find((v) => v.name === 'service')!.query);
    assert.ok(offered.includes(service), `${service} in ${offered.join(', ')}`);
    await page.evaluate((s) => window.__wisp.setVariables({ service: s }), service);
    const rate = dashboard.panels.find((p) => p.title === 'Request rate by service')!;
    const landed = await panel({ id: 'landed', title: `${rate.title} (var-service=${service})`, targets: rate.targets.map((t) => ({ ...t, datasource: undefined })) });
    assert.deepEqual(landed.errors, []);
    const labels = landed.frames.flatMap((f) => f.fields.filter((x) => x.type === 'number').map((x) => x.labels));
    assert.ok(labels.length > 0);
    assert.ok(labels.every((l) => l?.service === service), JSON.stringify(labels));

    // The log volume Explore draws above the lines: requests per interval by status class,
    // each class the engine's count.
    const volume = await page.evaluate((s) => window.__wisp.runner!.logVolume(s), spec);
    assert.ok(volume);
    const byClass = Object.fromEntries(
      volume.frames[0]!.fields.filter((f) => f.type === 'number').map((f) => [f.labels!.status_class, f.values.reduce((a: number, v) => a + Number(v ?? 0), 0)])
    );
    const classes = await direct({
      script: `import px
df = px.DataFrame(table='http_events', start_time=__time_from, end_time=__time_to)
df.c = px.select(df.resp_status >= 500, '5xx', px.select(df.resp_status >= 400, '4xx', px.select(df.resp_status >= 300, '3xx', px.select(df.resp_status >= 200, '2xx', '1xx'))))
px.display(df.groupby('c').agg(n=('latency', px.count)))`,
    });
    const expected = Object.fromEntries(classes.tables[0]!.data[0]!.map((c, i) => [String(c), Number(classes.tables[0]!.data[1]![i])]));
    assert.deepEqual(byClass, expected);
    assert.ok(byClass['5xx']! >= 2 * statuses.get(500)! && byClass['4xx']! >= 2 * statuses.get(404)!);

    // Explore's "filter for value" on a line's field: the query's own filter, the script as it was.
    const narrowed = await page.evaluate(() => window.__wisp.runner!.modify('explore', { type: 'ADD_FILTER', options: { key: 'resp_status', value: '500' } }));
    const state = await page.evaluate(() => window.__wisp.runner!.panels.get('explore')!.spec.targets[0]!);
    assert.equal(state.script, spec.targets[0]!.script);
    assert.deepEqual(state.adhocFilters, [{ key: 'resp_status', operator: '=', value: '500' }]);
    assert.deepEqual([...new Set(narrowed.frames[0]!.fields.find((f) => f.name === 'severity')!.values)], ['error']);
    assert.equal(narrowed.frames[0]!.length, 2 * statuses.get(500)!);
    await page.evaluate(() => window.__wisp.runner!.panels.delete('landed'));
    await page.evaluate((s) => window.__wisp.panel!(s), spec);
    await shot('logs');
  });

  await scene('annotations: the editor\'s preset runs, and markers sit at the times the engine\'s rows give', async () => {
    const preset = ANNOTATION_PRESETS.find((p) => p.id === 'server_errors')!;
    await page.click('#wisp-annotation-preset');
    await page.keyboard.type('Server errors');
    await page.keyboard.press('Enter');
    const edited = await page.evaluate(() => window.__wisp.annotationQuery);
    assert.equal(edited.script, preset.script);
    const annotation = { name: '5xx', enable: true, iconColor: 'red', target: edited };
    const result = await panel({ id: 'annotated', title: 'Requests by method, 5xx annotated', panelId: 3, targets: [{ refId: 'A', script: REQUESTS }], annotations: [annotation] });
    const answer = await direct({ script: preset.script });
    const t0 = answer.tables[0]!;
    const col = (name: string) => t0.data[t0.columns.findIndex((c) => c.name === name)]!;
    const expected = col('time_')
      .map((ns, i) => ({ time: nsToMs(ns), timeEnd: nsToMs(col('time_end')[i]), title: 'HTTP 5xx', tags: ['5xx', String(col('text')[i])] }))
      .sort((a, b) => a.time - b.time || a.tags[1]!.localeCompare(b.tags[1]!));
    assert.ok(expected.length >= 2, `the engine answered ${expected.length} 5xx intervals`);
    const events = result.annotations
      .map((e) => ({ time: e.time, timeEnd: e.timeEnd, title: e.title, tags: e.tags }))
      .sort((a, b) => a.time! - b.time! || a.tags![1]!.localeCompare(b.tags![1]!));
    assert.deepEqual(events, expected);
    // Drawn where they belong: each marker carries its event's times.
    const markers = await page.$$eval('#plot-annotated g.annotation', (gs) => gs.map((g) => [Number(g.getAttribute('data-t')), Number(g.getAttribute('data-t-end'))]));
    assert.deepEqual(markers.sort((a, b) => a[0]! - b[0]!), expected.map((e) => [e.time, e.timeEnd]).sort((a, b) => a[0]! - b[0]!));
    await shot('annotations');
  });

  await scene('a dashboard exported from Pixie\'s plugin: its variables and panels run unchanged', async () => {
    const json = JSON.parse(readFileSync(path.join(root, 'test/plugin/fixtures/pixie-dashboard.json'), 'utf8')) as {
      panels: Array<{ id: number; title: string; type: string; targets: Array<WispQuery & { queryBody: { pxlScript: string } }> }>;
    };
    const panels = await page.evaluate((d) => window.__wisp.runner!.importDashboard(d), json);
    assert.deepEqual(panels.map((p) => p.title), json.panels.map((p) => p.title));
    for (const p of panels) {
      assert.deepEqual(p.result.errors, [], p.title);
      assert.ok(p.result.frames.length > 0 && p.result.frames[0]!.length > 0, `${p.title} has rows`);
    }
    // The script the engine ran is the one Pixie saved, character for character…
    const saved = json.panels[0]!.targets[0]!.queryBody.pxlScript;
    assert.equal((panels[0]!.result.frames[0]!.meta as { executedQueryString: string }).executedQueryString, saved);
    // …and the series drawn are the engine's answer to it, with Pixie's macros and variables.
    const answer = await direct({ script: saved, variables: { pixieCluster: '', pixieService: '', sourceFilter: '/feat/' } });
    assert.deepEqual(await drawnSeries(page, '#plot-dash-2'), expectedSeries(answer, 'request_throughput'));
    assert.ok(total(answer, 1) > 0);
    // $__columns written out from the column picker, $__from through a def parameter.
    const columns = panels.find((p) => p.title === 'Requests by method and status')!.result.frames[0]!;
    assert.deepEqual(columns.fields.map((f) => f.name), ['req_method', 'resp_status', 'requests']);
    assert.equal(columns.fields[2]!.values.reduce((a: number, v) => a + Number(v), 0), 2 * 400);
    const data = panels.find((p) => p.title === 'HTTP data')!.result.frames[0]!;
    assert.ok(data.fields.find((f) => f.name === 'req_path')!.values.every((v) => String(v).includes('/feat/')));
    await shot('pixie-dashboard');
  });

  await scene('a script library: the editor picks a function and fills its arguments; variables as values, numbers and $__columns', async () => {
    /** Does `act` in the page and waits for the query it runs to end. */
    const runs = async (act: () => Promise<void>) => {
      const n = await page.evaluate(() => window.__wisp.queries);
      await act();
      await page.waitForFunction((k) => window.__wisp.queries > k, n);
    };
    /** Picks `label` in one of the editor's selects. */
    const pick = (select: string, label: string) =>
      runs(async () => {
        await page.click(select);
        await page.keyboard.type(label);
        await page.keyboard.press('Enter');
      });
    const runScript = (text: string) =>
      runs(async () => {
        await page.evaluate((t) => window.__wisp.setQueryText(t), text);
        await page.keyboard.press('Control+Enter');
      });
    // The editor: the script defines a function, so the picker offers it; its parameters become fields.
    await runScript(LIBRARY);
    await page.waitForSelector('#wisp-function-A');
    await pick('#wisp-function-A', 'requests_of');
    assert.match((await page.evaluate(() => window.__wisp.errors))[0]?.message ?? '', /'requests_of' is missing the argument 'start_time'/);
    assert.equal(await page.getAttribute('#wisp-arg-A-max_rows', 'placeholder'), '100');
    await page.evaluate(() => window.__wisp.setVariables({ prefix: '/feat/', max: '2' }));
    for (const [arg, value] of [['start_time', '-5m'], ['prefix', '$prefix']] as const) {
      await runs(async () => {
        await page.fill(`#wisp-arg-A-${arg}`, value);
        await page.press(`#wisp-arg-A-${arg}`, 'Enter');
      });
    }
    assert.deepEqual(await page.evaluate(() => window.__wisp.errors), []);
    assert.deepEqual(await page.evaluate(() => window.__wisp.frames.map((f) => [f.name, f.fields])), [['requests_of', ['resp_status', 'requests']]]);
    await page.locator('#query').screenshot({ path: path.join(artifacts, 'feature-function-picker.png') });

    // The same query as a panel: the variable in an argument is its value; numbers check.
    const byStatus = [...statuses].map(([status, count]) => [status, 2 * count]).sort();
    const call = { refId: 'A', script: LIBRARY, function: { name: 'requests_of', args: { start_time: '-5m', prefix: '$prefix' } } };
    const all = await panel({ id: 'library', title: 'requests_of(prefix=$prefix)', targets: [call] });
    assert.deepEqual(all.errors, []);
    const rows = (r: PanelResult) => {
      const f = r.frames[0]!;
      const col = (name: string) => f.fields.find((x) => x.name === name)!.values.map(Number);
      return col('resp_status').map((s, i) => [s, col('requests')[i]!]).sort();
    };
    assert.deepEqual(rows(all), byStatus);
    const two = await panel({ id: 'library', title: 'requests_of(max_rows=$max)', targets: [{ ...call, function: { ...call.function, args: { ...call.function.args, max_rows: '$max' } } }] });
    assert.equal(rows(two).length, 2);

    // A numeric variable in code is a number (head($max)); $__columns is what the picker holds.
    const picked = await panel({ id: 'picked', title: 'picked columns', targets: [{ refId: 'A', script: PICKED, columns: ['resp_status', 'requests'] }] });
    assert.deepEqual(picked.errors, []);
    assert.deepEqual(picked.frames[0]!.fields.map((f) => f.name), ['resp_status', 'requests']);
    assert.equal(picked.frames[0]!.fields[0]!.values.length, 2);
    const every = await panel({ id: 'picked', title: 'no column picked', targets: [{ refId: 'A', script: PICKED }] });
    assert.deepEqual(every.frames[0]!.fields.map((f) => f.name), ['resp_status', 'req_method', 'requests']);
    // Back to the script's own outputs, then the column picker a script using $__columns gets.
    await pick('#wisp-function-A', 'Script outputs');
    const own = await page.evaluate(() => window.__wisp.frames.map((f) => [f.fields, (f.meta as { notices?: Array<{ text: string }> }).notices?.map((x) => x.text)]));
    assert.deepEqual(own, [[[], ["PXL_NO_OUTPUT: the script displays nothing (add px.display(df, 'name') for each table to return)"]]], 'a library displays nothing of its own');
    await runScript(PICKED);
    await page.waitForSelector('#wisp-columns-A');
    await pick('#wisp-columns-A', 'req_method');
    assert.deepEqual(await page.evaluate(() => window.__wisp.frames.map((f) => [f.name, f.fields])), [['picked', ['req_method']]]);
  });

  await scene('the provisioned Network dashboard: every panel runs, the node graph frames are drawn', async () => {
    const json = JSON.parse(readFileSync(path.join(root, 'provisioning/dashboards/network.json'), 'utf8')) as {
      panels: Array<{ id: number; title: string; type: string; targets: WispQuery[] }>;
    };
    const panels = await page.evaluate((d) => window.__wisp.runner!.importDashboard(d), json);
    assert.deepEqual(panels.map((p) => p.title), json.panels.map((p) => p.title));
    for (const p of panels) assert.deepEqual(p.result.errors, [], p.title);
    // The test's HTTP traffic is TCP too: conn_stats has it, so the graph and series have rows.
    const graph = panels.find((p) => p.title === 'Network graph')!.result.frames;
    assert.deepEqual(graph.map((f) => [f.name, (f.meta as { preferredVisualisationType?: string } | undefined)?.preferredVisualisationType]), [['nodes', 'nodeGraph'], ['edges', 'nodeGraph']]);
    assert.deepEqual(graph[1]!.fields.map((f) => f.name).slice(0, 5), ['id', 'source', 'target', 'mainstat', 'secondarystat']);
    const edges = graph[1]!;
    const ids = edges.fields[0]!.values as string[];
    assert.ok(ids.length > 0, 'edges');
    const nodeIds = new Set(graph[0]!.fields.find((f) => f.name === 'id')!.values as string[]);
    for (const f of ['source', 'target']) for (const v of edges.fields.find((x) => x.name === f)!.values as string[]) assert.ok(nodeIds.has(v), `${f} ${v} is a node`);
    // Drawn: the node graph panel shows both frames, every edge id in the page.
    const graphId = json.panels.find((p) => p.title === 'Network graph')!.id;
    const text = await page.locator(`#panel-dash-${graphId}`).innerText();
    for (const id of ids) assert.ok(text.includes(id), `edge ${id} drawn`);
    for (const title of ['TCP bytes/s by service', 'Open TCP connections by service', 'Heaviest and longest-lived connections']) {
      const r = panels.find((p) => p.title === title)!.result;
      assert.ok(r.frames.length > 0 && r.frames[0]!.length > 0, `${title} has rows`);
    }
    await shot('network-dashboard');
  });

  await scene('a superseded query is cancelled in the browser, through the proxy, and in the engine', async () => {
    const cancelled = async (): Promise<number> => {
      const m = /^wisp_queries_total\{outcome="cancelled"\} (\d+)/m.exec(await (await fetch(`${engineUrl}/metrics`)).text());
      return m ? Number(m[1]) : 0;
    };
    const quick: WispQuery = { refId: 'A', script: REQUESTS };
    for (const how of ['unsubscribed', 'requestId'] as const) {
      const before = await cancelled();
      const abandoned = proxy.abandoned.length;
      const forwarded = proxy.requests.filter((r) => r.endsWith('/engine/api/v1/query')).length;
      // The slow run starts; once the proxy has forwarded it, the panel runs again (a time-range
      // change). A dashboard unsubscribes the old run; Explore's pane relies on the requestId.
      await page.evaluate(
        ([slow, keep]) => {
          void window.__wisp.panel!({ id: 'cancel', title: 'superseded', panelId: 9, keepPrevious: keep, targets: [{ refId: 'A', script: slow }] }).then((r) => (window.__wisp.superseded = r));
        },
        [SLOW, how === 'requestId'] as const
      );
      const deadline = Date.now() + 10_000;
      while (proxy.requests.filter((r) => r.endsWith('/engine/api/v1/query')).length === forwarded && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      await new Promise((r) => setTimeout(r, 300));
      const t0 = Date.now();
      const newer = await page.evaluate(
        ([q, keep]) => window.__wisp.panel!({ id: 'cancel', title: 'Requests by method (the newer run)', panelId: 9, keepPrevious: keep, targets: [q] }),
        [quick, how === 'requestId'] as const
      );
      assert.deepEqual(newer.errors, []);
      assert.ok(Date.now() - t0 < 3000, `the newer run took ${Date.now() - t0} ms: it did not wait for the superseded one`);
      const old = (await page.waitForFunction(() => window.__wisp.superseded).then((h) => h.jsonValue()))!;
      assert.deepEqual(old.frames, [], 'the superseded run drew nothing');
      assert.deepEqual(old.errors, [], 'a cancelled query is no error');
      const log = await page.evaluate(() => window.__wisp.fetches.cancelled);
      assert.equal(log.at(-1)?.by, how);
      assert.match(log.at(-1)!.requestId ?? '', /^wisp_harness_panel9_A$/);
      // The proxy closed its engine request, and the engine counted the query cancelled.
      assert.equal(proxy.abandoned.length, abandoned + 1);
      assert.equal(proxy.abandoned.at(-1), '/api/v1/query');
      const until = Date.now() + 3000;
      while ((await cancelled()) === before && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
      assert.equal(await cancelled(), before + 1, `${how}: the engine saw the abort`);
      await page.evaluate(() => (window.__wisp.superseded = undefined));
    }
    assert.ok(session.failed.some((f) => f.url.endsWith('/engine/api/v1/query') && f.reason === 'net::ERR_ABORTED'), JSON.stringify(session.failed));
  });

  assert.deepEqual(session.browserAuth, [], 'the browser never sends the token');
  assert.deepEqual(session.pageErrors, []);
});
