import { test } from 'node:test';
import assert from 'node:assert/strict';

import { formatDiagnostic, spanFromMessage } from './diagnostics.js';

test('the span survives the trip through the panel error text', () => {
  const span = { start: { line: 3, column: 8 }, end: { line: 3, column: 14 } };
  const text = formatDiagnostic({
    severity: 'error',
    code: 'PXL_UNKNOWN_COLUMN',
    message: "no column 'latncy' in http_events",
    span,
    hints: ["did you mean 'latency'?"],
  });
  assert.equal(text, "PXL_UNKNOWN_COLUMN at 3:8-3:14: no column 'latncy' in http_events (did you mean 'latency'?)");
  assert.deepEqual(spanFromMessage(text), span);
  assert.equal(spanFromMessage('engine answered HTTP 502'), undefined);
});
