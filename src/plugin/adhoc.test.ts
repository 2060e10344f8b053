import { test } from 'node:test';
import assert from 'node:assert/strict';

import { modifyQuery, queryHasFilter, sortedValues, tagKeys, tagValuesScript, toAdhocFilters, toggleQueryFilter } from './adhoc.js';
import { buildQueryRequest } from './request.js';
import type { SchemaResponse, WispQuery } from './types.js';

const SCRIPT = "import px\ndf = px.DataFrame(table='http_events', start_time=__time_from)\npx.display(df)";

test('the request carries ad hoc filters as data beside the untouched script', () => {
  const filters = toAdhocFilters([
    { key: 'resp_status', operator: '>=', value: '500' },
    { key: 'service', operator: '=|', value: 'default/cart', values: ['default/cart', 'default/frontend'] },
    { key: 'req_path', operator: '!~', value: '/health.*', origin: 'dashboard' },
  ]);
  const body = buildQueryRequest(SCRIPT, { range: { from: 1, to: 2 } }, {}, filters);
  assert.deepEqual(body, {
    script: SCRIPT,
    range: { from: 1, to: 2 },
    adhocFilters: [
      { key: 'resp_status', operator: '>=', value: '500' },
      { key: 'service', operator: '=|', values: ['default/cart', 'default/frontend'] },
      { key: 'req_path', operator: '!~', value: '/health.*' },
    ],
  });
  // A one-of filter Grafana sent with a lone value still goes as a list.
  assert.deepEqual(toAdhocFilters([{ key: 'k', operator: '!=|', value: 'v' }]), [{ key: 'k', operator: '!=|', values: ['v'] }]);
  // No filters, no field.
  assert.equal('adhocFilters' in buildQueryRequest(SCRIPT, { range: { from: 1, to: 2 } }, {}), false);
});

test('an operator the engine does not apply is an error naming it, not a silent drop', () => {
  assert.throws(() => toAdhocFilters([{ key: 'latency', operator: '~=', value: '1' }]), /ad hoc filter latency ~= 1: the engine applies = != < > <= >= =~ !~ =\| !=\|, not '~='/);
});

const schema: SchemaResponse = {
  tables: [
    {
      name: 'conn_stats',
      columns: [
        { name: 'time_', type: 'TIME64NS' },
        { name: 'remote_addr', type: 'STRING' },
        { name: 'bytes_sent', type: 'INT64' },
      ],
    },
    {
      name: 'http_events',
      columns: [
        { name: 'time_', type: 'TIME64NS' },
        { name: 'upid', type: 'UINT128' },
        { name: 'remote_addr', type: 'STRING' },
        { name: 'resp_status', type: 'INT64' },
        { name: 'pid', type: 'INT64' },
      ],
    },
  ],
  functions: [],
  macros: [],
  ctx: ['service', 'pod', 'pid'],
};

test('filter keys: columns of http_events first, then the other tables, then df.ctx keys; no times or UPIDs', () => {
  assert.deepEqual(
    tagKeys(schema).map((k) => [k.text, k.group]),
    [
      ['remote_addr', 'http_events'],
      ['resp_status', 'http_events'],
      ['pid', 'http_events'],
      ['bytes_sent', 'conn_stats'],
      ['service', 'df.ctx (metadata)'],
      ['pod', 'df.ctx (metadata)'],
    ]
  );
});

test('filter values: a distinct-values script on the table holding the key, a df.ctx key through upid', () => {
  assert.match(tagValuesScript('resp_status', schema) ?? '', /table='http_events'.*\ndf\.filter_value = df\.resp_status\ndf = df\.groupby\('filter_value'\)\.agg\(\)\npx\.display\(df\.head\(1000\), 'values'\)/s);
  assert.match(tagValuesScript('bytes_sent', schema) ?? '', /table='conn_stats'/);
  assert.match(tagValuesScript('service', schema) ?? '', /table='http_events'.*df\.filter_value = df\.ctx\['service'\]/s);
  assert.equal(tagValuesScript('nope', schema), undefined);
  assert.equal(tagValuesScript("x'] + px.now() #", schema), undefined, 'a key is never spliced into a script unless it is a name');
  assert.deepEqual(sortedValues(['500', '200', '404', '200', '']).map((v) => v.text), ['200', '404', '500']);
  assert.deepEqual(sortedValues(['b', 'a', null]).map((v) => v.text), ['a', 'b']);
});

test('filter for value / filter out value change the query\'s own filters, never its script', () => {
  const q: WispQuery = { refId: 'A', script: SCRIPT };
  const forIt = modifyQuery(q, { type: 'ADD_FILTER', options: { key: 'service', value: 'cart' } });
  assert.deepEqual(forIt, { ...q, adhocFilters: [{ key: 'service', operator: '=', value: 'cart' }] });
  const out = modifyQuery(forIt, { type: 'ADD_FILTER_OUT', options: { key: 'service', value: 'cart' } });
  assert.deepEqual(out.adhocFilters, [{ key: 'service', operator: '!=', value: 'cart' }], 'the opposite filter is replaced');
  assert.equal(out.script, SCRIPT);
  assert.equal(modifyQuery(q, { type: 'ADD_STRING_FILTER', options: { value: 'x' } }), q);

  const toggled = toggleQueryFilter(q, { type: 'FILTER_FOR', options: { key: 'resp_status', value: '500' } });
  assert.equal(queryHasFilter(toggled, { key: 'resp_status', value: '500' }), true);
  const back = toggleQueryFilter(toggled, { type: 'FILTER_FOR', options: { key: 'resp_status', value: '500' } });
  assert.deepEqual(back.adhocFilters, []);
  assert.equal(queryHasFilter(back, { key: 'resp_status', value: '500' }), false);
});
