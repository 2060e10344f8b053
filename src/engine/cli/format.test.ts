import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ResultTable } from '../api/contract.js';
import { renderDiagnostic } from './diagnostic.js';
import { nsToIso, resultAsCsv, resultAsText } from './format.js';

const table: ResultTable = {
  name: 'output',
  columns: [
    { name: 'time_', type: 'TIME64NS', semantic: 'ST_NONE' },
    { name: 'path', type: 'STRING', semantic: 'ST_NONE' },
    { name: 'n', type: 'INT64', semantic: 'ST_NONE' },
  ],
  rowCount: 2,
  data: [
    ['1763812800123456789', '1763812801000000001'],
    ['/a,b', 'say "hi"'],
    ['9007199254740993', '2'],
  ],
};

test('nsToIso keeps all nine digits exactly', () => {
  assert.equal(nsToIso(1763812800123456789n), '2025-11-22T12:00:00.123456789Z');
  assert.equal(nsToIso(0n), '1970-01-01T00:00:00.000000000Z');
});

test('csv keeps epoch-ns integers and 64-bit values exact, and quotes fields', () => {
  assert.equal(
    resultAsCsv(table),
    'time_,path,n\n1763812800123456789,"/a,b",9007199254740993\n1763812801000000001,"say ""hi""",2',
  );
});

test('text table renders times as RFC 3339 and aligns columns', () => {
  const lines = resultAsText(table).split('\n');
  assert.equal(lines.length, 3);
  assert.match(lines[1]!, /^2025-11-22T12:00:00\.123456789Z {2}\/a,b {6}9007199254740993$/);
});

test('diagnostics underline the span and list hints', () => {
  const script = 'import px\ndf = px.DataFrame(table="http_events")\ndf = df[df.latncy > 10]\n';
  const text = renderDiagnostic(
    {
      severity: 'error',
      code: 'PXL_UNKNOWN_COLUMN',
      message: "no column 'latncy' in http_events",
      span: { start: { line: 3, column: 12 }, end: { line: 3, column: 18 } },
      hints: ["did you mean 'latency'?"],
    },
    script,
    'x.pxl',
  );
  assert.equal(
    text,
    [
      "error[PXL_UNKNOWN_COLUMN]: no column 'latncy' in http_events",
      '  --> x.pxl:3:12',
      '  |',
      '3 | df = df[df.latncy > 10]',
      '  |            ^^^^^^',
      "  = hint: did you mean 'latency'?",
    ].join('\n'),
  );
});
