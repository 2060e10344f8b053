import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { FieldType } from '@grafana/data';

import { EngineApi, EngineError } from './api.js';
import type { StreamEvent, StreamOpener } from './api.js';
import { LiveAnswer } from './stream.js';
import type { ApiColumn, ApiValue, StreamLine } from './types.js';

const EVENTS: ApiColumn[] = [
  { name: 'time_', type: 'TIME64NS' },
  { name: 'req_path', type: 'STRING' },
  { name: 'resp_status', type: 'INT64' },
];

function rows(from: number, n: number): StreamLine {
  const idx = Array.from({ length: n }, (_, i) => from + i);
  const data: ApiValue[][] = [idx.map((i) => `${1_700_000_000_000_000_000n + BigInt(i) * 1_000_000n}`), idx.map((i) => `/r/${i}`), idx.map(() => '200')];
  return { t: 'batch', tables: [{ name: 'events', columns: EVENTS, rowCount: n, data }], cursor: `c${from + n}` };
}

const START: StreamLine = { t: 'start', outputs: [{ name: 'events', mode: 'rows' }], cursor: 'c0', warnings: [] };

test('rows stream into a table frame that keeps only the newest rows', () => {
  const answer = new LiveAnswer(5);
  assert.equal(answer.apply(START), true);
  assert.deepEqual(answer.frames({ refId: 'A', script: 's' }).map((f) => f.length), [0]);
  assert.equal(answer.apply(rows(0, 3)), true);
  assert.equal(answer.apply({ t: 'live', cursor: 'c3' }), false);
  assert.equal(answer.live, true);
  assert.equal(answer.apply({ t: 'heartbeat', cursor: 'c3' }), false);
  assert.equal(answer.apply(rows(3, 4)), true);
  const [frame] = answer.frames({ refId: 'A', script: 's', format: 'table' });
  assert.equal(frame.length, 5);
  assert.deepEqual(Array.from(frame.fields.find((f) => f.name === 'req_path')!.values), ['/r/2', '/r/3', '/r/4', '/r/5', '/r/6']);
  // The times stay exact milliseconds, as in a query's frames.
  assert.equal(frame.fields[0].type, FieldType.time);
  assert.equal(frame.fields[0].values[0], 1_700_000_000_002);
});

test('windows stream into a time series, one point per closed window and label set', () => {
  const answer = new LiveAnswer();
  answer.apply({ t: 'start', outputs: [{ name: 'per_s', mode: 'windows', windowNs: '1000000000' }], cursor: 'c0', warnings: [] });
  const columns: ApiColumn[] = [
    { name: 'time_', type: 'TIME64NS' },
    { name: 'service', type: 'STRING' },
    { name: 'requests', type: 'INT64' },
  ];
  const window = (s: number, counts: [string, number][]): StreamLine => ({
    t: 'batch',
    cursor: `w${s}`,
    tables: [
      {
        name: 'per_s',
        columns,
        rowCount: counts.length,
        data: [counts.map(() => `${s}000000000`), counts.map(([svc]) => svc), counts.map(([, n]) => String(n))],
        window: { from: `${s}000000000`, to: `${s + 1}000000000` },
      },
    ],
  });
  answer.apply(window(1700000000, [['a', 3], ['b', 1]]));
  answer.apply(window(1700000001, [['a', 4], ['b', 2]]));
  const [frame] = answer.frames({ refId: 'A', script: 's' });
  assert.deepEqual(Array.from(frame.fields[0].values), [1700000000000, 1700000001000]);
  const series = frame.fields.slice(1).map((f) => [f.labels?.service, Array.from(f.values)]);
  assert.deepEqual(series, [
    ['a', [3, 4]],
    ['b', [1, 2]],
  ]);
});

test('warning lines and reconnects become the frame notices, the newest kept', () => {
  const answer = new LiveAnswer(1000, 2);
  answer.apply(START);
  answer.apply(rows(0, 1));
  const dropped = (n: number): StreamEvent => ({ t: 'warning', warning: { severity: 'warning', code: 'STREAM_ROWS_DROPPED', message: `${n} rows were dropped` }, rows: n });
  assert.equal(answer.apply(dropped(10)), true);
  assert.equal(answer.apply(dropped(20)), true);
  assert.equal(answer.apply({ t: 'reconnect', reason: 'socket hang up', attempt: 1 }), true);
  const notices = answer.frames({ refId: 'A', script: 's' })[0].meta?.notices ?? [];
  assert.deepEqual(
    notices.map((n) => [n.severity, n.text]),
    [
      ['warning', 'STREAM_ROWS_DROPPED: 20 rows were dropped'],
      ['warning', 'STREAM_RECONNECTED: the stream was opened again with its cursor (attempt 1) after: socket hang up'],
    ]
  );
});

test('a picked output shows nothing until its rows come, and an output the script lacks is an error', () => {
  const answer = new LiveAnswer();
  answer.apply({ t: 'start', outputs: [{ name: 'events', mode: 'rows' }, { name: 'other', mode: 'rows' }], cursor: 'c0', warnings: [] });
  answer.apply(rows(0, 2));
  assert.deepEqual(answer.frames({ refId: 'A', script: 's', output: 'other' }).map((f) => f.length), [0]);
  assert.equal(answer.frames({ refId: 'A', script: 's', output: 'events' })[0].length, 2);
  assert.throws(() => answer.frames({ refId: 'A', script: 's', output: 'nope' }), /no output named "nope"; it displays: events, other/);
});

/**
 * A scripted NDJSON server standing in for the engine (a double: the test needs the connection
 * cut at an exact line, which a live engine does not do on demand). The real engine's streams are
 * tested through the plugin in test/plugin/stream.test.ts.
 */
async function scripted(answers: Array<(res: http.ServerResponse) => void>) {
  const bodies: Array<Record<string, unknown>> = [];
  const closed: number[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const n = bodies.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>);
      res.on('close', () => closed.push(n));
      (answers[n - 1] ?? ((r: http.ServerResponse) => r.destroy()))(res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    bodies,
    closed,
    close: () => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  };
}

const nodeOpener: StreamOpener = (url, body, signal) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal });
const line = (res: http.ServerResponse, l: StreamLine) => res.write(JSON.stringify(l) + '\n');

test('a dropped stream is opened again with the last cursor; aborting closes the connection', async (t) => {
  const server = await scripted([
    (res) => {
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      line(res, START);
      // Split inside a line: the reader must join the pieces.
      const text = JSON.stringify(rows(0, 2)) + '\n';
      res.write(text.slice(0, 10));
      setTimeout(() => {
        res.write(text.slice(10));
        setTimeout(() => res.destroy(), 20);
      }, 20);
    },
    (res) => {
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      line(res, { ...START, cursor: 'c2' });
      line(res, rows(2, 1));
    },
  ]);
  t.after(() => server.close());
  const api = new EngineApi(server.url, async () => ({ status: 500, data: null }), nodeOpener);
  const abort = new AbortController();
  const seen: StreamEvent[] = [];
  for await (const event of api.stream({ script: 'S' }, abort.signal, 10)) {
    seen.push(event);
    if (event.t === 'batch' && event.cursor === 'c3') {
      abort.abort();
    }
  }
  assert.deepEqual(
    seen.map((e) => (e.t === 'batch' ? `batch ${e.cursor}` : e.t)),
    ['start', 'batch c2', 'reconnect', 'start', 'batch c3']
  );
  assert.deepEqual(server.bodies, [
    { script: 'S', stream: true },
    { script: 'S', stream: true, cursor: 'c2' },
  ]);
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.deepEqual(server.closed, [1, 2]);
});

test('a refused script and an error line end the stream with the engine diagnostic', async (t) => {
  const diagnostic = { severity: 'error' as const, code: 'PXL_STREAM_UNSUPPORTED', message: 'cannot stream this', hints: [] };
  const server = await scripted([
    (res) => {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: diagnostic }));
    },
    (res) => {
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      line(res, START);
      line(res, { t: 'error', error: { ...diagnostic, code: 'PXL_LIMIT' } });
    },
  ]);
  t.after(() => server.close());
  const api = new EngineApi(server.url, async () => ({ status: 500, data: null }), nodeOpener);
  const drain = async () => {
    for await (const _ of api.stream({ script: 'S' }, new AbortController().signal, 10));
  };
  const refused = await drain().catch((e: unknown) => e);
  assert.ok(refused instanceof EngineError);
  assert.equal(refused.status, 400);
  assert.equal(refused.diagnostic?.code, 'PXL_STREAM_UNSUPPORTED');
  const failed = await drain().catch((e: unknown) => e);
  assert.ok(failed instanceof EngineError);
  assert.equal(failed.diagnostic?.code, 'PXL_LIMIT');
});
