import { test } from 'node:test';
import assert from 'node:assert/strict';

import { completionsAt } from './completion.js';
import { FIXTURE_SCHEMA } from '../testkit/plugin/fixtureEngine.js';

const labels = (text: string) => completionsAt(text, FIXTURE_SCHEMA).items.map((i) => i.label);

test('completion follows the cursor context', () => {
  assert.deepEqual(labels("df = px.DataFrame(table='http"), ['http_events']);
  assert.deepEqual(labels('df.x = px.'), ['count', 'bin', 'quantiles']);
  assert.deepEqual(labels('df.x = px.qu'), ['quantiles']);
  assert.deepEqual(labels('df.lat'), ['latency']);
  assert.deepEqual(labels("df['req"), ['req_path']);
  assert.deepEqual(labels("df.ctx['se"), ['service']);
  assert.deepEqual(labels('x = $__'), ['$__interval']);
  assert.deepEqual(labels('start_time=__ti'), ['__time_from']);
  assert.equal(completionsAt('df.x = px.co', FIXTURE_SCHEMA).replaceLength, 2);
});

test('without a schema only keywords are offered', () => {
  assert.deepEqual(completionsAt('im', undefined).items.map((i) => i.label), ['import']);
  assert.deepEqual(completionsAt('px.', undefined).items, []);
});
