// One browser session on the harness page: the data-proxy stand-in serving dist/ and the
// harness, headless Chromium (Debian's) driven by playwright-core, the page loaded with the
// plugin, and what the page did wrong (errors, an Authorization header sent by the browser).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { chromium } from 'playwright-core';
import type { BrowserContext, Page } from 'playwright-core';

import { startDataProxy } from '../../src/testkit/plugin/dataProxy.js';
import type { DataProxy } from '../../src/testkit/plugin/dataProxy.js';

export const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../..');
export const artifacts = path.join(root, 'test-artifacts/plugin');
const CHROMIUM = '/usr/bin/chromium';

export interface Session {
  page: Page;
  proxy: DataProxy;
  /** Uncaught errors in the page. */
  pageErrors: string[];
  /** Requests the browser itself sent with an Authorization header (there must be none). */
  browserAuth: string[];
  /** Browser requests that failed, with Chromium's reason (a cancelled fetch: net::ERR_ABORTED). */
  failed: Array<{ url: string; reason: string }>;
}

/** Opens the harness for the range [from, to]; everything is closed when the test ends. */
export async function openHarness(t: TestContext, range: { from: number; to: number }): Promise<Session> {
  fs.mkdirSync(artifacts, { recursive: true });
  assert.ok(fs.existsSync(path.join(root, 'dist/module.js')), 'dist/module.js is missing: run `make plugin` first');
  const proxy = await startDataProxy({
    '/dist/': path.join(root, 'dist'),
    '/harness/': path.join(root, 'out/test/plugin/harness'),
  });
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wisp-plugin-chromium-'));
  let context: BrowserContext | undefined;
  t.after(async () => {
    await context?.close();
    await proxy.close();
    fs.rmSync(userDataDir, { recursive: true, force: true });
  });
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    viewport: { width: 1100, height: 1300 },
  });
  const page = await context.newPage();
  const session: Session = { page, proxy, pageErrors: [], browserAuth: [], failed: [] };
  page.on('pageerror', (e) => session.pageErrors.push(e.message));
  page.on('request', (r) => {
    const auth = r.headers().authorization;
    if (auth) session.browserAuth.push(`${r.url()} ${auth}`);
  });
  page.on('requestfailed', (r) => session.failed.push({ url: r.url(), reason: r.failure()?.errorText ?? '' }));
  await page.goto(`${proxy.url}/harness/index.html?from=${range.from}&to=${range.to}`);
  await page.waitForFunction(() => window.__wisp?.ready || window.__wisp?.loadError, undefined, { timeout: 60_000 });
  assert.equal(await page.evaluate(() => window.__wisp.loadError), undefined);
  return session;
}

/** Fills the datasource settings and runs "Save & test", which must succeed. */
export async function configure(page: Page, engineUrl: string, token: string): Promise<void> {
  await page.fill('#wisp-engine-url', engineUrl);
  await page.fill('#wisp-token', token);
  await page.evaluate(() => (window.__wisp.health = undefined));
  await page.click('#save-test');
  await page.waitForFunction(() => window.__wisp.health !== undefined);
  assert.equal(await page.evaluate(() => window.__wisp.health?.status), 'success', await page.evaluate(() => window.__wisp.health?.message));
}

export interface Point {
  t: number;
  v: number;
}
export type SeriesByLabel = Record<string, Point[]>;

/** What a plot on the page drew: every circle's exact time and value, grouped by the series' labels. */
export async function drawnSeries(page: Page, plot = '#plot'): Promise<SeriesByLabel> {
  return page.$$eval(`${plot} g.series`, (groups) => {
    const out: Record<string, Array<{ t: number; v: number }>> = {};
    for (const g of groups) {
      out[g.getAttribute('data-labels') ?? ''] = Array.from(g.querySelectorAll('circle.point')).map((c) => ({
        t: Number(c.getAttribute('data-t')),
        v: Number(c.getAttribute('data-v')),
      }));
    }
    return out;
  });
}

/** An engine answer as the tests read it. */
export interface RawAnswer {
  tables: Array<{ name: string; columns: Array<{ name: string; type: string; semantic?: string }>; data: unknown[][] }>;
  adhocFilters?: Array<{ key: string; appliedTo: string[] }>;
  warnings?: Array<{ code: string; message: string }>;
}

/** Epoch ns (a decimal string) to ms, exactly as far as a double allows: BigInt division first. */
export function nsToMs(ns: unknown): number {
  const big = BigInt(String(ns));
  return Number(big / 1_000_000n) + Number(big % 1_000_000n) / 1e6;
}

/**
 * The series the engine's raw answer holds, computed here independently of the plugin: rows
 * grouped by the string columns, times from decimal nanoseconds to milliseconds with BigInt,
 * per-nanosecond throughputs shown per second (docs: src/plugin/README.md "Frames").
 */
export function expectedSeries(body: RawAnswer, valueColumn: string): SeriesByLabel {
  const t = body.tables[0];
  const index = (name: string) => t.columns.findIndex((c) => c.name === name);
  const col = (name: string) => t.data[index(name)];
  const semantic = t.columns[index(valueColumn)].semantic ?? '';
  const scale = semantic.startsWith('ST_THROUGHPUT') ? 1e9 : 1;
  const labelCols = t.columns.filter((c) => c.type === 'STRING').map((c) => c.name);
  const out: SeriesByLabel = {};
  col('time_').forEach((ns, i) => {
    const labels: Record<string, string> = {};
    // An empty label value is no label, as in Prometheus and Grafana (on a host without
    // Kubernetes every ctx['service'] is '').
    for (const l of labelCols) if (String(col(l)[i]) !== '') labels[l] = String(col(l)[i]);
    const key = JSON.stringify(labels);
    (out[key] ??= []).push({ t: nsToMs(ns), v: Number(col(valueColumn)[i]) * scale });
  });
  for (const pts of Object.values(out)) pts.sort((a, b) => a.t - b.t);
  return out;
}

/** Posts a query straight to the engine (not through the page), for answers to compare with. */
export async function engineQuery(engineUrl: string, token: string, body: object): Promise<RawAnswer> {
  const res = await fetch(`${engineUrl}/api/v1/query`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  const answer = (await res.json()) as RawAnswer;
  assert.equal(res.status, 200, JSON.stringify(answer).slice(0, 500));
  return answer;
}
