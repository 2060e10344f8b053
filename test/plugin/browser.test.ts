// The built plugin (dist/module.js) in headless Chromium, loaded the way Grafana loads it, against
// an engine behind a data-proxy stand-in. By default the engine is the FIXTURE in
// src/testkit/plugin/fixtureEngine.ts; set WISP_PLUGIN_ENGINE_URL (and WISP_PLUGIN_ENGINE_TOKEN when the engine has
// a token) to run the same steps against a live `bin/wisp engine`. See README.md here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import type { Page } from 'playwright-core';

import { QUERY_PRESETS, VARIABLE_PRESETS } from '../../src/plugin/presets.js';
import { FIXTURE_VALUES, fixtureAnswer, startFixtureEngine } from '../../src/testkit/plugin/fixtureEngine.js';
import type { FixtureEngine } from '../../src/testkit/plugin/fixtureEngine.js';
import { artifacts, drawnSeries, engineQuery, expectedSeries, openHarness } from './session.js';
import type { Point, RawAnswer } from './session.js';

const LIVE_URL = process.env.WISP_PLUGIN_ENGINE_URL;
const LIVE_TOKEN = process.env.WISP_PLUGIN_ENGINE_TOKEN ?? '';
const FIXTURE_TOKEN = 'fixture-token';

async function clearEditor(page: Page): Promise<void> {
  await page.click('#query .monaco-editor .view-lines');
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Delete');
}

async function suggestions(page: Page): Promise<string[]> {
  await page.waitForSelector('.suggest-widget.visible .monaco-list-row', { timeout: 10_000 });
  return page.$$eval('.suggest-widget.visible .monaco-list-row', (rows) =>
    rows.map((r) => (r.getAttribute('aria-label') ?? r.textContent ?? '').split(',')[0].trim())
  );
}

async function queryCount(page: Page): Promise<number> {
  return page.evaluate(() => window.__wisp.queries);
}

test('the built plugin in a browser: Save & test, completion, a query drawn as series, an error marked', { timeout: 180_000 }, async (t) => {
  const fixture: FixtureEngine | undefined = LIVE_URL ? undefined : await startFixtureEngine({ token: FIXTURE_TOKEN });
  t.after(() => fixture?.close());
  const engineUrl = LIVE_URL ?? fixture!.url;
  const token = LIVE_URL ? LIVE_TOKEN : FIXTURE_TOKEN;
  const to = Date.now();
  const from = to - 15 * 60_000;
  const { page, pageErrors, browserAuth } = await openHarness(t, { from, to });

  // --- ConfigEditor and Save & test: a wrong token first, then the right one.
  await page.fill('#wisp-engine-url', engineUrl);
  await page.fill('#wisp-token', 'wrong-token');
  await page.click('#save-test');
  await page.waitForSelector('#health[data-status]');
  const rejected = await page.textContent('#health');
  if (token !== '') {
    assert.equal(await page.getAttribute('#health', 'data-status'), 'error');
    assert.match(rejected ?? '', /token: the engine rejected the request: token missing or wrong \(HTTP 401\)/);
  } else {
    // A live engine started without --token-file accepts any token.
    assert.equal(await page.getAttribute('#health', 'data-status'), 'success', rejected ?? '');
  }
  await page.screenshot({ path: path.join(artifacts, '1-save-and-test-rejected.png') });

  // The secret is now "configured": the field shows Reset, as in Grafana.
  await page.click('#config button:has-text("Reset")');
  await page.fill('#wisp-token', token);
  await page.evaluate(() => (window.__wisp.health = undefined));
  await page.click('#save-test');
  await page.waitForFunction(() => window.__wisp.health !== undefined);
  assert.equal(await page.evaluate(() => window.__wisp.health?.status), 'success', await page.evaluate(() => window.__wisp.health?.message));
  await page.waitForSelector('#health[data-status="success"]');
  const ok = (await page.textContent('#health')) ?? '';
  assert.match(ok, /reachable at http:\/\/127\.0\.0\.1:\d+; token accepted; capture running: \d+ events captured/);
  if (fixture) {
    assert.match(ok, /engine 0\.1\.0-fixture .* 56789 events captured, 1234 held in http_events; drops: ringbuf_full 3/);
  }
  await page.screenshot({ path: path.join(artifacts, '2-save-and-test-ok.png') });

  // --- QueryEditor: completion from the schema.
  await page.waitForSelector('#query .monaco-editor .view-lines', { timeout: 60_000 });
  await clearEditor(page);
  await page.keyboard.type("df = px.DataFrame(table='http_e");
  assert.ok((await suggestions(page)).includes('http_events'));
  await page.keyboard.press('Escape');
  await clearEditor(page);
  await page.keyboard.type('df.x = px.qu');
  const fns = await suggestions(page);
  assert.ok(fns.includes('quantiles'), `px. completion offered ${fns.join(', ')}`);
  await page.screenshot({ path: path.join(artifacts, '3-completion.png') });
  await page.keyboard.press('Escape');

  // --- A script typed in and run with Ctrl+Enter; the drawn series must equal the engine's numbers.
  const preset = QUERY_PRESETS.find((p) => p.id === 'throughput_by_service')!;
  await clearEditor(page);
  await page.keyboard.insertText(preset.script);
  const before = await queryCount(page);
  await page.keyboard.press('Control+Enter');
  await page.waitForFunction((n) => window.__wisp.queries > n, before);
  assert.deepEqual(await page.evaluate(() => window.__wisp.errors), []);
  await page.waitForSelector('#plot g.series');
  const drawn = await drawnSeries(page);
  const sent = { script: preset.script, range: { from, to }, intervalMs: 15_000, maxDataPoints: 500, variables: { ns: ['default', 'kube-system'], namespace: 'default' } };
  let raw: RawAnswer;
  if (fixture) {
    // The plugin sent the script untouched, Grafana's range and interval, variables as a list,
    // and the token came from the proxy, not the browser.
    assert.deepEqual(fixture.queries.at(-1), sent);
    assert.equal(fixture.authHeaders.at(-1), `Bearer ${FIXTURE_TOKEN}`);
    raw = fixtureAnswer(sent).body as typeof raw;
    // The fixture's numbers as requests per second, written out by hand.
    const perSecond = (pts: Point[]) => pts.map((p) => [p.t, Math.round(p.v * 1e6) / 1e6]);
    assert.deepEqual(perSecond(drawn['{"service":"default/frontend"}']), [
      [1700000000000, 10],
      [1700000015000, 11.25],
      [1700000030000, 12.5],
    ]);
    assert.deepEqual(perSecond(drawn['{"service":"default/cart"}']), [
      [1700000000000, 3],
      [1700000015000, 4.5],
    ]);
  } else {
    raw = await engineQuery(engineUrl, token, sent);
  }
  assert.deepEqual(drawn, expectedSeries(raw, 'request_throughput'));
  assert.ok(Object.keys(drawn).length > 0, 'the query drew no series');
  const frames = await page.evaluate(() => window.__wisp.frames);
  assert.equal((frames[0].meta as { executedQueryString?: string }).executedQueryString, preset.script);
  await page.screenshot({ path: path.join(artifacts, '4-timeseries.png'), fullPage: true });

  // --- The preset picker replaces the script and runs it.
  const latency = QUERY_PRESETS.find((p) => p.id === 'latency_by_service')!;
  const beforePreset = await queryCount(page);
  await page.click('#wisp-preset-A');
  await page.keyboard.type('Latency p50');
  await page.keyboard.press('Enter');
  await page.waitForFunction((n) => window.__wisp.queries > n, beforePreset);
  if (fixture) {
    assert.equal(fixture.queries.at(-1)?.script, latency.script);
  }
  assert.equal(
    await page.evaluate(() => (window.__wisp.frames[0]?.meta as { executedQueryString?: string } | undefined)?.executedQueryString),
    latency.script
  );

  // --- An engine error is marked on the line and column the engine reports.
  // Small output on purpose: after the fix the script runs against live data too.
  const broken =
    "import px\ndf = px.DataFrame(table='http_events', start_time=__time_from)\ndf.slow = df.latncy > 1000000\npx.display(df[['time_', 'slow']].head(10))\n";
  await clearEditor(page);
  await page.keyboard.insertText(broken);
  const beforeErr = await queryCount(page);
  await page.keyboard.press('Control+Enter');
  await page.waitForFunction((n) => window.__wisp.queries > n, beforeErr);
  // Where the error must be: the misspelt name on line 3 for the fixture; for a live engine, the
  // span its own raw answer gives.
  let span = { line: 3, column: broken.split('\n')[2].indexOf('latncy') + 1, endColumn: 0 };
  span.endColumn = span.column + 'latncy'.length;
  if (!fixture) {
    const res = await fetch(`${engineUrl}/api/v1/query`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ script: broken, range: { from, to } }),
    });
    const e = ((await res.json()) as { error: { span: { start: { line: number; column: number }; end: { column: number } } } }).error;
    span = { line: e.span.start.line, column: e.span.start.column, endColumn: e.span.end.column };
  }
  const errors = await page.evaluate(() => window.__wisp.errors);
  assert.equal(errors.length, 1);
  assert.ok(errors[0].message?.includes(` at ${span.line}:${span.column}-${span.line}:${span.endColumn}: `), errors[0].message);
  await page.waitForFunction(() => window.__wisp.markers().some((m) => m.owner === 'wisp'));
  const markers = (await page.evaluate(() => window.__wisp.markers())).filter((m) => m.owner === 'wisp');
  assert.deepEqual(
    markers.map((m) => [m.line, m.column, m.endColumn]),
    [[span.line, span.column, span.endColumn]]
  );
  await page.waitForSelector('#query .squiggly-error');
  assert.equal(await page.isVisible('#query :text("Latency p50/p90/p99 by service")'), false, 'an edited preset no longer shows as that preset');
  await page.mouse.move(0, 0);
  await page.screenshot({ path: path.join(artifacts, '5-error-marker.png'), fullPage: true });

  // --- Blur runs: fix the typo, leave the editor, the query runs and the marker goes away.
  await clearEditor(page);
  await page.keyboard.insertText(broken.replace('latncy', 'latency'));
  const beforeBlur = await queryCount(page);
  await page.click('#config h2');
  await page.waitForFunction((n) => window.__wisp.queries > n, beforeBlur);
  await page.waitForFunction(() => !window.__wisp.markers().some((m) => m.owner === 'wisp'));

  // --- A chained query variable: services of $namespace; the parent's value goes in `variables`.
  const services = VARIABLE_PRESETS.find((p) => p.id === 'services')!;
  const values = await page.evaluate((script) => window.__wisp.variableValues!(script), services.script);
  if (fixture) {
    assert.deepEqual(values, FIXTURE_VALUES);
    const q = fixture.queries.at(-1)!;
    assert.equal(q.script, services.script);
    assert.deepEqual(q.variables, { ns: ['default', 'kube-system'], namespace: 'default' });
  } else {
    assert.ok(Array.isArray(values));
  }

  // --- Leaving the dashboard for Explore keeps the script and carries the variables' values.
  const explored = await page.evaluate((script) => window.__wisp.toExplore!(script), services.script);
  assert.deepEqual(explored, {
    refId: 'A',
    script: services.script,
    variables: { ns: ['default', 'kube-system'], namespace: 'default' },
  });

  // --- Hidden and empty queries are not sent.
  const sentBefore = fixture?.queries.length;
  const frameCount = await page.evaluate(() =>
    window.__wisp.runTargets!([
      { refId: 'H', script: 'import px', hide: true },
      { refId: 'E', script: '  ' },
    ])
  );
  assert.equal(frameCount, 0);
  if (fixture) {
    assert.equal(fixture.queries.length, sentBefore);
  }

  assert.deepEqual(browserAuth, [], 'the browser never sends the token');
  assert.deepEqual(pageErrors, []);
});
