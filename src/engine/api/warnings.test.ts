import { test } from 'node:test';
import assert from 'node:assert/strict';
import { missingWarning } from './warnings.js';

test('the warning names both causes; no warning when nothing went missing', () => {
  assert.equal(missingWarning({ shed: 0, lost: 0 }), undefined);
  const w = missingWarning({ shed: 40, lost: 2 })!;
  assert.equal(w.code, 'CAPTURE_INCOMPLETE');
  assert.equal(w.severity, 'warning');
  assert.match(w.message, /^42 HTTP exchanges in this time range were not captured \(40 shed under overload, 2 lost to dropped data\)/);
  assert.equal(missingWarning({ shed: 0, lost: 1 })!.hints.length, 0);
});
