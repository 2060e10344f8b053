// FIXTURE, not the engine: a small HTTP server speaking docs/api.md so the plugin can be tested
// while the real engine is built. It answers from canned data; the browser test can instead be
// pointed at a live `bin/wisp engine` (see README.md in this folder).
import http from 'node:http';
import type { AddressInfo } from 'node:net';

import type { QueryRequest, ReadyzResponse, SchemaResponse } from '../../plugin/types.js';

/** What the fixture answers; every field has a healthy default. */
export interface FixtureOptions {
  /** When set, /api/* needs `Authorization: Bearer <token>`. */
  token?: string;
  readyStatus?: number;
  /** A readyz body, or a string sent as-is (to play a server that is not Wisp). */
  ready?: ReadyzResponse | string;
  schemaStatus?: number;
  /** Answers a query; defaults to FIXTURE_ANSWER. */
  answer?: (req: QueryRequest) => { status: number; body: unknown };
}

/** A running fixture. */
export interface FixtureEngine {
  url: string;
  /** Every query body received, in order. */
  queries: QueryRequest[];
  /** Authorization headers seen on /api/* requests. */
  authHeaders: Array<string | undefined>;
  close(): Promise<void>;
}

/** The healthy readyz body. */
export const FIXTURE_READY: ReadyzResponse = {
  ready: true,
  version: '0.1.0-fixture',
  checks: [
    { name: 'capture', ok: true, detail: '12 tracepoints attached' },
    { name: 'store', ok: true, detail: 'http_events: 1234 rows' },
  ],
  capture: { running: true, events: 56789, drops: { ringbuf_full: 3 } },
  tables: { http_events: { rows: 1234, bytes: 1258291, droppedRows: 0 } },
};

/** The schema the fixture serves. */
export const FIXTURE_SCHEMA: SchemaResponse = {
  tables: [
    {
      name: 'http_events',
      doc: 'one row per HTTP request/response pair',
      columns: [
        { name: 'time_', type: 'TIME64NS', semantic: 'ST_NONE', doc: 'response completed' },
        { name: 'latency', type: 'INT64', semantic: 'ST_DURATION_NS', doc: 'first request byte to last response byte' },
        { name: 'req_path', type: 'STRING', semantic: 'ST_NONE' },
        { name: 'resp_status', type: 'INT64', semantic: 'ST_HTTP_RESP_STATUS' },
      ],
    },
  ],
  functions: [
    { name: 'px.count', kind: 'aggregate', signatures: [{ args: ['INT64'], ret: 'INT64' }], doc: 'rows in the group' },
    { name: 'px.bin', kind: 'scalar', signatures: [{ args: ['TIME64NS', 'INT64'], ret: 'TIME64NS' }], doc: 'floor to a multiple' },
    { name: 'px.quantiles', kind: 'aggregate', signatures: [{ args: ['INT64'], ret: 'STRING' }], doc: 'p01…p99' },
  ],
  macros: [
    { name: '__time_from', doc: 'range start, ns' },
    { name: '__interval', doc: 'interval, ns' },
    { name: '$__interval', doc: "Grafana's interval" },
  ],
  ctx: ['pod', 'service', 'namespace', 'node', 'pid', 'cmd', 'container'],
};

/**
 * The canned answer: request throughput of two services over three bins, per nanosecond as
 * the engine computes count / __interval, deliberately in long form, unsorted, with one
 * missing point.
 */
const FIXTURE_SERIES = {
  times: ['1700000030000000000', '1700000000000000000', '1700000015000000000', '1700000000000000000', '1700000015000000000'],
  services: ['default/frontend', 'default/frontend', 'default/frontend', 'default/cart', 'default/cart'],
  perNs: [12.5e-9, 10e-9, 11.25e-9, 3e-9, 4.5e-9],
};

/** What the fixture answers to a variable preset (a script displaying `<column>_values`). */
export const FIXTURE_VALUES = ['default/cart', 'default/frontend'];

/** The fixture's default query answer: an error for a misspelt column, one column for a variable preset, else FIXTURE_SERIES. */
export function fixtureAnswer(req: QueryRequest): { status: number; body: unknown } {
  const lines = req.script.split('\n');
  const line = lines.findIndex((l) => l.includes('latncy'));
  if (line >= 0) {
    const column = lines[line].indexOf('latncy') + 1;
    return {
      status: 400,
      body: {
        error: {
          severity: 'error',
          code: 'PXL_UNKNOWN_COLUMN',
          message: "no column 'latncy' in http_events",
          span: { start: { line: line + 1, column }, end: { line: line + 1, column: column + 6 } },
          hints: ["did you mean 'latency'?"],
        },
      },
    };
  }
  const distinct = /px\.display\(df, '(\w+)_values'\)/.exec(req.script);
  if (distinct) {
    return {
      status: 200,
      body: {
        tables: [
          {
            name: `${distinct[1]}_values`,
            columns: [{ name: distinct[1], type: 'STRING', semantic: 'ST_NONE' }],
            rowCount: FIXTURE_VALUES.length,
            data: [FIXTURE_VALUES],
          },
        ],
        warnings: [],
      },
    };
  }
  return {
    status: 200,
    body: {
      tables: [
        {
          name: 'throughput_by_service',
          columns: [
            { name: 'time_', type: 'TIME64NS', semantic: 'ST_NONE' },
            { name: 'service', type: 'STRING', semantic: 'ST_SERVICE_NAME' },
            { name: 'request_throughput', type: 'FLOAT64', semantic: 'ST_THROUGHPUT_PER_NS' },
          ],
          rowCount: FIXTURE_SERIES.times.length,
          data: [FIXTURE_SERIES.times, FIXTURE_SERIES.services, FIXTURE_SERIES.perNs],
        },
      ],
      stats: { compileMs: 0.1, executeMs: 0.2, rowsScanned: 42, bytesScanned: 4200 },
      warnings: [],
    },
  };
}

/** Starts the fixture on an ephemeral loopback port. */
export async function startFixtureEngine(opts: FixtureOptions = {}): Promise<FixtureEngine> {
  const queries: QueryRequest[] = [];
  const authHeaders: Array<string | undefined> = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const send = (status: number, body: unknown) => {
        const text = typeof body === 'string' ? body : JSON.stringify(body);
        res.writeHead(status, { 'content-type': typeof body === 'string' ? 'text/plain' : 'application/json' });
        res.end(text);
      };
      const path = (req.url ?? '/').split('?')[0];
      if (path === '/healthz') {
        return send(200, { status: 'ok' });
      }
      if (path === '/readyz') {
        const ready = opts.ready ?? FIXTURE_READY;
        return send(opts.readyStatus ?? (typeof ready === 'object' && !ready.ready ? 503 : 200), ready);
      }
      if (path.startsWith('/api/')) {
        authHeaders.push(req.headers.authorization);
        if (opts.token !== undefined && req.headers.authorization !== `Bearer ${opts.token}`) {
          return send(401, { error: { severity: 'error', code: 'UNAUTHORIZED', message: 'missing or wrong bearer token', hints: [] } });
        }
      }
      if (path === '/api/v1/schema' && req.method === 'GET') {
        const status = opts.schemaStatus ?? 200;
        return send(status, status === 200 ? FIXTURE_SCHEMA : { error: { code: 'INTERNAL', message: 'schema failed' } });
      }
      if (path === '/api/v1/query' && req.method === 'POST') {
        let body: QueryRequest;
        try {
          body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as QueryRequest;
        } catch (e) {
          return send(400, { error: { severity: 'error', code: 'BAD_REQUEST', message: `body is not JSON: ${String(e)}`, hints: [] } });
        }
        queries.push(body);
        const answer = (opts.answer ?? fixtureAnswer)(body);
        return send(answer.status, answer.body);
      }
      send(404, { error: { code: 'NOT_FOUND', message: `no route ${req.method} ${path}` } });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    queries,
    authHeaders,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
