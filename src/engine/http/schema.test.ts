import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HTTP_EVENTS_SCHEMA } from './schema.js';

test('schema: Pixie column names and types, docs on every column', () => {
  const byName = new Map(HTTP_EVENTS_SCHEMA.fields.map((f) => [f.name, f]));
  const pixie: Array<[string, string]> = [
    ['time_', 'TIME64NS'], ['upid', 'UINT128'], ['remote_addr', 'STRING'], ['remote_port', 'INT64'],
    ['local_addr', 'STRING'], ['local_port', 'INT64'], ['trace_role', 'INT64'], ['encrypted', 'BOOLEAN'],
    ['major_version', 'INT64'], ['minor_version', 'INT64'], ['content_type', 'INT64'], ['req_headers', 'STRING'],
    ['req_method', 'STRING'], ['req_path', 'STRING'], ['req_body', 'STRING'], ['req_body_size', 'INT64'],
    ['resp_headers', 'STRING'], ['resp_status', 'INT64'], ['resp_message', 'STRING'], ['resp_body', 'STRING'],
    ['resp_body_size', 'INT64'], ['latency', 'INT64'],
  ];
  for (const [name, type] of pixie) assert.equal(byName.get(name)?.type, type, name);
  assert.equal(byName.get('latency')?.semantic, 'ST_DURATION_NS');
  assert.equal(byName.get('upid')?.semantic, 'ST_UPID');
  assert.equal(byName.get('resp_body_size')?.semantic, 'ST_BYTES');
  for (const f of HTTP_EVENTS_SCHEMA.fields) assert.ok(f.doc && f.doc.length > 10, f.name);
  assert.equal(HTTP_EVENTS_SCHEMA.fields.length, new Set(HTTP_EVENTS_SCHEMA.fields.map((f) => f.name)).size);
});
