import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Redactor, bodyText, contentTypeOf, headersJson } from './render.js';
import { HTTP_EVENTS_SCHEMA } from './schema.js';

const h = (...pairs: string[]): string[] => {
  const out: string[] = [];
  for (let i = 0; i < pairs.length; i += 2) out.push(pairs[i]!, pairs[i]!.toLowerCase(), pairs[i + 1]!);
  return out;
};

test('headers JSON: names as first sent, repeats joined in order, JSON-escaped', () => {
  const r = new Redactor(false);
  assert.equal(headersJson(h('Accept', 'a', 'X-Q', 'say "hi"\\', 'accept', 'b'), r), '{"Accept":"a, b","X-Q":"say \\"hi\\"\\\\"}');
  assert.equal(headersJson([], r), '{}');
  assert.deepEqual(JSON.parse(headersJson(h('__proto__', 'x'), r)), JSON.parse('{"__proto__":"x"}'));
});

test('content type: JSON media types are 1, others 0', () => {
  assert.equal(contentTypeOf(h('Content-Type', 'application/json; charset=utf-8')), 1);
  assert.equal(contentTypeOf(h('content-type', 'application/problem+json')), 1);
  assert.equal(contentTypeOf(h('Content-Type', 'text/html')), 0);
  assert.equal(contentTypeOf([]), 0);
});

test('body text: a cut multi-byte sequence is left out, a complete body keeps its bytes', () => {
  const euro = Buffer.from('a€'); // 61 e2 82 ac
  assert.equal(bodyText(euro, 3, true), 'a');
  assert.equal(bodyText(euro, 4, true), 'a€');
  assert.equal(bodyText(euro, 3, false), 'a\ufffd');
  assert.equal(bodyText(null, 0, false), '');
});

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
