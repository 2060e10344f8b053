import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  AUTH_SCHEMES, CREDENTIAL_PAIRS, CREDENTIAL_SUFFIXES, DEFAULT_REDACTED_HEADERS, DEFAULT_REDACTED_PARAMS, REDACTED,
  Redactor, TOKEN_MIN_RUN, TOKEN_PREFIXES, bodyText, contentTypeOf, headersJson, nameWords, type RedactionOptions,
} from './render.js';
import { HTTP_EVENTS_SCHEMA } from './schema.js';

/** The shared vectors (redaction-vectors.json); a native implementation is checked against the same file. */
interface Vectors {
  marker: string;
  defaults: {
    headers: string[]; params: string[]; credentialSuffixes: string[]; credentialPairs: [string, string][];
    authSchemes: string[]; tokenPrefixes: string[]; tokenMinRun: number;
  };
  words: { name: string; words: string[] }[];
  headers: { case: string; config?: RedactionOptions; headers: [string, string][]; json: string }[];
  targets: { case: string; config?: RedactionOptions; target: string; out: string }[];
  bodies: { case: string; hex: string; cut: boolean; text: string }[];
}
const vectors = JSON.parse(readFileSync(new URL('../../../../src/engine/http/redaction-vectors.json', import.meta.url), 'utf8')) as Vectors;

const h = (...pairs: string[]): string[] => {
  const out: string[] = [];
  for (let i = 0; i < pairs.length; i += 2) out.push(pairs[i]!, pairs[i]!.toLowerCase(), pairs[i + 1]!);
  return out;
};

test('vectors: the built-in lists are the ones the vectors name', () => {
  assert.equal(vectors.marker, REDACTED);
  assert.deepEqual(vectors.defaults, {
    headers: DEFAULT_REDACTED_HEADERS, params: DEFAULT_REDACTED_PARAMS, credentialSuffixes: CREDENTIAL_SUFFIXES,
    credentialPairs: CREDENTIAL_PAIRS, authSchemes: AUTH_SCHEMES, tokenPrefixes: TOKEN_PREFIXES, tokenMinRun: TOKEN_MIN_RUN,
  });
  for (const p of TOKEN_PREFIXES) {
    assert.ok(!p.startsWith('eyJ') && TOKEN_PREFIXES.every((q) => q === p || !q.startsWith(p)), `${p} begins another pattern`);
  }
});

test('vectors: words of names', () => {
  for (const v of vectors.words) assert.deepEqual(nameWords(v.name), v.words, v.name);
});

test('vectors: headers', () => {
  for (const v of vectors.headers) {
    const triples = v.headers.flatMap(([name, value]) => [name, name.toLowerCase(), value]);
    assert.equal(headersJson(triples, new Redactor(v.config)), v.json, v.case);
  }
});

test('vectors: request targets', () => {
  for (const v of vectors.targets) assert.equal(new Redactor(v.config).target(v.target), v.out, v.case);
});

test('vectors: body text', () => {
  for (const v of vectors.bodies) {
    const b = Buffer.from(v.hex, 'hex');
    assert.equal(bodyText(b, b.length, v.cut), v.text, v.case);
  }
});

test('every default header and parameter name is redacted, in any case', () => {
  const r = new Redactor();
  for (const name of DEFAULT_REDACTED_HEADERS) {
    const upper = name.toUpperCase();
    assert.equal(headersJson([upper, name, 'v'], r), `{"${upper}":"${REDACTED}"}`, name);
  }
  for (const name of DEFAULT_REDACTED_PARAMS) assert.equal(r.target(`/p?${name.toUpperCase()}=v`), `/p?${name.toUpperCase()}=${REDACTED}`, name);
});

test('redaction settings: bad names and names with redaction off are refused', () => {
  assert.throws(() => new Redactor({ headers: ['x y'] }), /'x y' is not an HTTP header name/);
  assert.throws(() => new Redactor({ params: ['a b'] }), /'a b' is not a parameter name/);
  assert.throws(() => new Redactor({ params: ['é'] }), /'é' is not a parameter name/);
  assert.throws(() => new Redactor({ mode: 'off', headers: ['x-a'] }), /redaction is off/);
});

test('headers JSON: names as first sent, repeats joined in order, JSON-escaped', () => {
  const r = new Redactor({ mode: 'off' });
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

test('hostile shapes stay linear: 1 MB of eyJ, of & without =, of path parameters, 100k header fields', { timeout: 20_000 }, () => {
  const r = new Redactor();
  const n = 1_000_000;
  const started = performance.now();
  assert.equal(r.target('/x?' + 'eyJ'.repeat(n / 3)).length, 3 + 3 * Math.floor(n / 3));
  assert.equal(r.target('/x?' + 'a&'.repeat(n / 2)).length, 3 + n);
  assert.equal(r.target('/x' + ';a/'.repeat(n / 3)).length, 2 + 3 * Math.floor(n / 3));
  assert.equal(headersJson(['X-A', 'x-a', 'eyJ'.repeat(n / 3)], r).length, 10 + 3 * Math.floor(n / 3));
  const many: string[] = [];
  for (let i = 0; i < n / 10; i++) many.push(`X-${i}`, `x-${i}`, 'v');
  assert.ok(headersJson(many, r).startsWith('{"X-0":"v","X-1":"v"'));
  // Quadratic work on these inputs takes minutes; linear work well under a second here.
  assert.ok(performance.now() - started < 5000, `took ${(performance.now() - started).toFixed(0)} ms`);
});
