/**
 * Pixie's script shapes on a live engine capturing a real server on a plain host: the server
 * runs in a systemd-style cgroup (`…/catalog.service`), so `ctx['service']` is `catalog`; the
 * script (endpoints.pxl) calls every function Wisp added for Pixie's scripts, leaves out a
 * comma between keyword arguments and uses numeric dashboard variables. Every cell is
 * computed by hand from the requests sent.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { cpus, hostname } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { QueryResponse } from '../../src/engine/api/contract.js';
import type { Child } from '../capture-kernel/helpers.js';
import { startService, type ServiceFixture } from './service.js';
import { rowsOf } from '../pxl-reference/duck.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const SCRIPT = readFileSync(join(root, 'test/pxl-scripts/endpoints.pxl'), 'utf8');

// /items/N answers 2 KiB (N = 333 after 150 ms), anything else 512 bytes.
const SERVER = `
  const s = require('http').createServer((req, res) => {
    const item = /^\\/items\\/[0-9]+$/.test(req.url);
    const send = () => res.end(Buffer.alloc(item ? 2048 : 512, 120));
    if (req.url === '/items/333') setTimeout(send, 150); else send();
  });
  s.listen(0, '127.0.0.1', () => console.log(s.address().port));`;

let service: ServiceFixture;
let server: Child;
let base: string;

before(async () => {
  service = await startService('wisp-endpoints', 'catalog.service', SERVER);
  ({ server, base } = service);
  for (const path of ['/items/1', '/items/22', '/items/333', '/health', '/health']) {
    const res = await fetch(`http://127.0.0.1:${server.firstLine}${path}`);
    await res.arrayBuffer();
  }
  // Captured rows are queryable within 250 ms.
  await new Promise((r) => setTimeout(r, 1000));
});

after(() => service.stop());

async function query(variables: Record<string, string>): Promise<QueryResponse> {
  const to = Date.now() + 1000;
  const res = await fetch(`${base}/api/v1/query`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ script: SCRIPT, range: { from: to - 120_000, to }, variables }),
  });
  const body = (await res.json()) as QueryResponse;
  assert.equal(res.status, 200, JSON.stringify(body));
  return body;
}

test('every new function, hand-checked, on a plain host', async () => {
  const body = await query({ slow_ms: '100', max_rows: '10' });
  const rows = rowsOf(body, 'endpoints').sort((a, b) => String(a[0]).localeCompare(String(b[0])));
  // No Kubernetes: no container name, deployment or replica set, a pod start time of 0; the statuses of a pod and a
  // container nobody knows are Pixie's 'Unknown' objects.
  const plainHost = [hostname(), String(cpus().length), '0', '', '{"phase":"Unknown","message":"","reason":"","ready":false}', '{"state":"Unknown","message":"","reason":""}', '', '', '', '0'];
  const constant = ['slower than 100 ms', '1d', '1m'];
  assert.deepEqual(rows, [
    ['/health', ...constant, '{"label":"/health","script":"px/http_data","args":{"endpoint":"/health","start_time":"-5m"}}', 'localhost', ...plainHost, '2', 1, '0'],
    ['/items/{id}', ...constant, '{"label":"/items/{id}","script":"px/http_data","args":{"endpoint":"/items/{id}","start_time":"-5m"}}', 'localhost', ...plainHost, '3', 6, '1'],
  ]);
});

test('a missing comma between keyword arguments runs, with a PXL_LENIENT warning at the spot', async () => {
  const body = await query({ slow_ms: '100', max_rows: '10' });
  const lenient = body.warnings.filter((w) => w.code === 'PXL_LENIENT');
  const lines = SCRIPT.split('\n');
  const at = (needle: string): { line: number; column: number } => {
    const line = lines.findIndex((l) => l.includes(needle));
    return { line: line + 1, column: lines[line]!.indexOf(needle) + 1 };
  };
  assert.deepEqual(lenient.map((w) => w.span?.start), [at('start_time=__time_from'), at('kib=(')]);
  assert.match(lenient[0]!.message, /missing ',' between keyword arguments 'table' and 'start_time'/);
});

test('numeric variables are numbers in code: head($max_rows), px.milliseconds($slow_ms)', async () => {
  const one = await query({ slow_ms: '100', max_rows: '1' });
  assert.equal(rowsOf(one, 'endpoints').length, 1);
  const none = await query({ slow_ms: '1000', max_rows: '10' });
  assert.deepEqual(rowsOf(none, 'endpoints').map((r) => [r[1], r.at(-1)]), [['slower than 1000 ms', '0'], ['slower than 1000 ms', '0']]);
});
