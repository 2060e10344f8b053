import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FieldType } from '@grafana/data';
import type { DataFrame } from '@grafana/data';

import { nsToMs, toFrames } from './frames.js';
import type { ApiTable, QueryResponse } from './types.js';

const opts = { refId: 'A', script: 'import px\npx.display(df)' };
const valuesOf = (f: DataFrame, i: number) => Array.from(f.fields[i].values);

function table(name: string, columns: ApiTable['columns'], data: ApiTable['data']): ApiTable {
  return { name, columns, data, rowCount: data[0]?.length ?? 0 };
}

test('long rows with a time_ column and a string column become one labelled field per service, sorted by time', () => {
  const res: QueryResponse = {
    tables: [
      table(
        'latency',
        [
          { name: 'time_', type: 'TIME64NS', semantic: 'ST_NONE' },
          { name: 'service', type: 'STRING', semantic: 'ST_SERVICE_NAME' },
          { name: 'latency_p99', type: 'FLOAT64', semantic: 'ST_DURATION_NS' },
        ],
        [
          ['1700000015000000000', '1700000000000000000', '1700000000000000000', '1700000030000000000', '1700000030000000000'],
          ['a', 'a', 'b', 'a', 'b'],
          [20.5, 10, 7, 30, 8],
        ]
      ),
    ],
  };
  const [f] = toFrames(res, opts);
  assert.equal(f.name, 'latency');
  assert.equal(f.refId, 'A');
  assert.deepEqual(f.fields.map((x) => [x.name, x.type, x.labels]), [
    ['time_', FieldType.time, undefined],
    ['latency_p99', FieldType.number, { service: 'a' }],
    ['latency_p99', FieldType.number, { service: 'b' }],
  ]);
  assert.deepEqual(valuesOf(f, 0), [1700000000000, 1700000015000, 1700000030000]);
  assert.deepEqual(valuesOf(f, 1), [10, 20.5, 30]);
  assert.deepEqual(valuesOf(f, 2), [7, null, 8], 'b has no point at the second time');
  assert.equal(f.fields[1].config.unit, 'ns');
  assert.equal(f.meta?.executedQueryString, opts.script);
});

test('64-bit times are converted from the exact integer: nanoseconds apart stay ordered and distinct', () => {
  assert.equal(nsToMs('1700000000123000000'), 1700000000123);
  assert.equal(nsToMs('1700000000123456789'), 1700000000123 + 0.456789);
  assert.equal(nsToMs('-1500000'), -1.5);
  // As doubles these two are the same number; the conversion must still sort and split them.
  assert.equal(Number('1700000000000000001'), Number('1700000000000000002'));
  const [f] = toFrames(
    {
      tables: [
        table(
          't',
          [
            { name: 'time_', type: 'TIME64NS' },
            { name: 'n', type: 'INT64' },
          ],
          [
            ['1700000000000000002', '1700000000000000001'],
            ['2', '1'],
          ]
        ),
      ],
    },
    opts
  );
  assert.deepEqual(valuesOf(f, 1), [1, 2]);
  assert.equal(f.length, 2);
  assert.throws(() => nsToMs('1.5e18'), /decimal integer string/);
});

test('several outputs give several frames; output picks one and names the others when missing', () => {
  const res: QueryResponse = {
    tables: [
      table('a', [{ name: 'x', type: 'STRING' }], [['1']]),
      table('b', [{ name: 'y', type: 'INT64' }], [['2']]),
    ],
  };
  assert.deepEqual(toFrames(res, opts).map((f) => f.name), ['a', 'b']);
  const only = toFrames(res, { ...opts, output: 'b' });
  assert.deepEqual(only.map((f) => [f.name, valuesOf(f, 0)]), [['b', [2]]]);
  assert.throws(() => toFrames(res, { ...opts, output: 'c' }), /no output named "c"; it displays: a, b/);
});

test('empty results: no outputs keeps the query text and warnings; an empty output keeps its fields', () => {
  const none = toFrames(
    { tables: [], warnings: [{ severity: 'warning', code: 'PXL_LIMIT', message: 'truncated at 10000 rows', hints: [] }] },
    opts
  );
  assert.equal(none.length, 1);
  assert.equal(none[0].length, 0);
  assert.equal(none[0].meta?.executedQueryString, opts.script);
  assert.deepEqual(none[0].meta?.notices, [{ severity: 'warning', text: 'PXL_LIMIT: truncated at 10000 rows' }]);

  const [empty] = toFrames(
    {
      tables: [
        table(
          'rps',
          [
            { name: 'time_', type: 'TIME64NS' },
            { name: 'service', type: 'STRING' },
            { name: 'rps', type: 'FLOAT64' },
          ],
          [[], [], []]
        ),
      ],
    },
    opts
  );
  assert.deepEqual(empty.fields.map((f) => f.name), ['time_', 'rps']);
  assert.equal(empty.length, 0);
});

test('nodes and edges outputs become node-graph frames; a missing edge id is made from source and target', () => {
  const frames = toFrames(
    {
      tables: [
        table(
          'nodes',
          [
            { name: 'id', type: 'STRING' },
            { name: 'title', type: 'STRING' },
            { name: 'mainstat', type: 'INT64' },
          ],
          [['fe', 'cart'], ['frontend', 'cart'], ['10', '4']]
        ),
        table(
          'edges',
          [
            { name: 'source', type: 'STRING' },
            { name: 'target', type: 'STRING' },
          ],
          [['fe'], ['cart']]
        ),
      ],
    },
    opts
  );
  assert.deepEqual(frames.map((f) => f.meta?.preferredVisualisationType), ['nodeGraph', 'nodeGraph']);
  assert.deepEqual(valuesOf(frames[0], 2), [10, 4]);
  assert.deepEqual(frames[1].fields.map((f) => f.name), ['id', 'source', 'target']);
  assert.deepEqual(valuesOf(frames[1], 0), ['fe->cart']);
});

test('tables without time_ stay tables; units, exact INT64 and float specials are kept', () => {
  const [f] = toFrames(
    {
      tables: [
        table(
          'stats',
          [
            { name: 'service', type: 'STRING' },
            { name: 'bytes', type: 'INT64', semantic: 'ST_BYTES' },
            { name: 'errors', type: 'FLOAT64', semantic: 'ST_PERCENT' },
            { name: 'rate', type: 'FLOAT64', semantic: 'ST_THROUGHPUT_PER_NS' },
            { name: 'big', type: 'INT64' },
            { name: 'ok', type: 'BOOLEAN' },
          ],
          [
            ['a', 'b'],
            ['1024', '2048'],
            [0.5, 'NaN'],
            [2e-9, 'Infinity'],
            ['9007199254740993', '1'],
            [true, false],
          ]
        ),
      ],
    },
    opts
  );
  assert.deepEqual(f.fields.map((x) => [x.type, x.config.unit]), [
    [FieldType.string, undefined],
    [FieldType.number, 'bytes'],
    [FieldType.number, 'percentunit'],
    [FieldType.number, 'reqps'],
    [FieldType.string, undefined],
    [FieldType.boolean, undefined],
  ]);
  assert.deepEqual(valuesOf(f, 2), [0.5, NaN]);
  assert.deepEqual(valuesOf(f, 3), [2, Infinity], 'per-ns throughput is shown per second');
  assert.deepEqual(valuesOf(f, 4), ['9007199254740993', '1'], '2^53+1 is kept digit for digit');
});

test('raw rows, nearly one label set per row, stay a table rather than one-point series', () => {
  const [f] = toFrames(
    {
      tables: [
        table(
          'http_events',
          [
            { name: 'time_', type: 'TIME64NS' },
            { name: 'req_path', type: 'STRING' },
            { name: 'latency', type: 'INT64' },
          ],
          [
            ['1700000000000000000', '1700000001000000000', '1700000002000000000'],
            ['/a', '/b', '/a'],
            ['5', '6', '7'],
          ]
        ),
      ],
    },
    opts
  );
  assert.deepEqual(f.fields.map((x) => [x.name, x.labels]), [
    ['time_', undefined],
    ['req_path', undefined],
    ['latency', undefined],
  ]);
  assert.deepEqual(valuesOf(f, 1), ['/a', '/b', '/a']);
});

test('format "table" keeps a time series as a table; warnings become notices on the first frame', () => {
  const res: QueryResponse = {
    tables: [
      table(
        'raw',
        [
          { name: 'time_', type: 'TIME64NS' },
          { name: 'req_path', type: 'STRING' },
          { name: 'latency', type: 'INT64', semantic: 'ST_DURATION_NS' },
        ],
        [['1700000000000000000'], ['/x'], ['1500']]
      ),
    ],
    warnings: [
      {
        severity: 'warning',
        code: 'ENGINE_DOWN',
        message: 'node-2 did not answer',
        span: { start: { line: 1, column: 1 }, end: { line: 1, column: 2 } },
        hints: ['retry'],
      },
    ],
  };
  const [f] = toFrames(res, { ...opts, format: 'table' });
  assert.deepEqual(f.fields.map((x) => x.name), ['time_', 'req_path', 'latency']);
  assert.deepEqual(f.meta?.notices, [{ severity: 'warning', text: 'ENGINE_DOWN at 1:1-1:2: node-2 did not answer (retry)' }]);
});

test('malformed answers are refused with the output and column named', () => {
  const bad = table('t', [{ name: 'time_', type: 'TIME64NS' }, { name: 'n', type: 'INT64' }], [['1'], ['1', '2']]);
  assert.throws(() => toFrames({ tables: [bad] }, opts), /output "t" column "n" has 2 values, rowCount says 1/);
  const wrongTime = table('t', [{ name: 'time_', type: 'TIME64NS' }, { name: 'n', type: 'INT64' }], [[17], ['1']]);
  assert.throws(() => toFrames({ tables: [wrongTime] }, opts), /column "time_" must hold decimal integer strings, got 17/);
});

const RAW: ApiTable = table(
  'requests',
  [
    { name: 'time_', type: 'TIME64NS', semantic: 'ST_NONE' },
    { name: 'service', type: 'STRING', semantic: 'ST_NONE' },
    { name: 'req_method', type: 'STRING', semantic: 'ST_NONE' },
    { name: 'req_path', type: 'STRING', semantic: 'ST_NONE' },
    { name: 'resp_status', type: 'INT64', semantic: 'ST_HTTP_RESP_STATUS' },
    { name: 'latency', type: 'INT64', semantic: 'ST_DURATION_NS' },
  ],
  [
    ['1700000000000000001', '1700000000000000002', '1700000001500000000', '1700000002000000000'],
    ['cart', 'cart', 'frontend', 'frontend'],
    ['GET', 'POST', 'GET', 'GET'],
    ['/a', '/b', '/c', '/d'],
    ['200', '404', '503', '101'],
    ['850000', '12300000', '1250000000', '0'],
  ]
);

test('raw rows as logs: a line from method, path, status and latency, the level from the status class, every column a field', () => {
  const [f] = toFrames({ tables: [RAW] }, { ...opts, format: 'logs' });
  assert.equal(f.meta?.type, 'log-lines');
  assert.equal(f.meta?.preferredVisualisationType, 'logs');
  assert.deepEqual(f.fields.map((x) => [x.name, x.type]), [
    ['timestamp', FieldType.time],
    ['body', FieldType.string],
    ['severity', FieldType.string],
    ['service', FieldType.string],
    ['req_method', FieldType.string],
    ['req_path', FieldType.string],
    ['resp_status', FieldType.number],
    ['latency', FieldType.number],
  ]);
  assert.deepEqual(valuesOf(f, 1), ['GET /a 200 850 µs', 'POST /b 404 12.3 ms', 'GET /c 503 1.25 s', 'GET /d 101 0 µs']);
  assert.deepEqual(valuesOf(f, 2), ['info', 'warning', 'error', 'info']);
  // Nanoseconds within a millisecond stay apart: the sub-millisecond part rides in `nanos`.
  assert.deepEqual(valuesOf(f, 0), [1700000000000, 1700000000000, 1700000001500, 1700000002000]);
  assert.deepEqual(f.fields[0].nanos, [1, 2, 0, 0]);
  assert.equal(f.fields[7].config.unit, 'ns');
  // The service leads to the provisioned dashboard, filtered on it, over the same time range.
  assert.deepEqual(f.fields[3].config.links, [
    { title: 'HTTP overview of ${__value.raw}', url: '/d/wisp-http-overview/http-overview?var-service=${__value.raw}&${__url_time_range}' },
  ]);
});

test('format auto: raw rows are logs in Explore and a table on a dashboard; a time series stays a series', () => {
  assert.equal(toFrames({ tables: [RAW] }, { ...opts, explore: true })[0].meta?.type, 'log-lines');
  assert.equal(toFrames({ tables: [RAW] }, opts)[0].meta?.type, undefined);
  assert.equal(toFrames({ tables: [RAW] }, { ...opts, explore: true, format: 'table' })[0].meta?.type, undefined);
  const series = table(
    's',
    [
      { name: 'time_', type: 'TIME64NS' },
      { name: 'n', type: 'INT64' },
    ],
    [['1', '2'], ['3', '4']]
  );
  assert.equal(toFrames({ tables: [series] }, { ...opts, explore: true })[0].fields[1].name, 'n');
  assert.equal(toFrames({ tables: [series] }, { ...opts, explore: true })[0].meta?.type, undefined);
});

test('engine stats go to the inspector once; applied ad hoc filters become info notices', () => {
  const frames = toFrames(
    {
      tables: [RAW, RAW],
      stats: { compileMs: 0.5, executeMs: 3, rowsScanned: 2000, bytesScanned: 4096, engines: { queried: 3, pruned: 1, failed: 0 } },
      warnings: [],
      adhocFilters: [
        { key: 'resp_status', operator: '>=', value: '500', appliedTo: ['http_events'] },
        { key: 'service', operator: '=|', values: ['a', 'b'], appliedTo: ['http_events', 'conn_stats'] },
        { key: 'nope', operator: '=', value: 'x', appliedTo: [] },
      ],
    },
    opts
  );
  assert.deepEqual(frames[0].meta?.stats, [
    { displayName: 'Compile time', value: 0.5, unit: 'ms' },
    { displayName: 'Execute time', value: 3, unit: 'ms' },
    { displayName: 'Rows scanned', value: 2000 },
    { displayName: 'Bytes scanned', value: 4096, unit: 'bytes' },
    { displayName: 'Engines queried', value: 3 },
    { displayName: 'Engines pruned', value: 1 },
    { displayName: 'Engines failed', value: 0 },
  ]);
  assert.equal(frames[1].meta?.stats, undefined);
  assert.deepEqual(frames[0].meta?.notices, [
    { severity: 'info', text: 'ad hoc filter resp_status >= 500 applied to http_events' },
    { severity: 'info', text: 'ad hoc filter service =| a, b applied to http_events, conn_stats' },
  ]);
});

test('the log volume: one series per status class, named by it and coloured by its level', () => {
  const [f] = toFrames(
    {
      tables: [
        table(
          'log_volume',
          [
            { name: 'time_', type: 'TIME64NS' },
            { name: 'status_class', type: 'STRING' },
            { name: 'requests', type: 'INT64' },
          ],
          [['0', '0', '15000000000', '15000000000'], ['2xx', '5xx', '2xx', '5xx'], ['10', '1', '12', '3']]
        ),
      ],
    },
    { ...opts, logVolume: true, explore: true }
  );
  assert.deepEqual(
    f.fields.slice(1).map((x) => [x.labels, x.config.displayNameFromDS, x.config.color, Array.from(x.values)]),
    [
      [{ status_class: '2xx', level: 'info' }, '2xx', { mode: 'fixed', fixedColor: 'green' }, [10, 12]],
      [{ status_class: '5xx', level: 'error' }, '5xx', { mode: 'fixed', fixedColor: 'red' }, [1, 3]],
    ]
  );
});
