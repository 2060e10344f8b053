import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ProcessMetadata } from '../meta/process.js';
import { checkRedaction, type RedactionOptions } from './redaction.js';
import { HttpStitcher, type StitcherOptions } from '../../testkit/http/stitcher.js';
import type { HttpEventRow } from './schema.js';
import { ConnScript } from '../../testkit/http/connections.js';

/** The rules' vectors (redaction-vectors.json): what the native parser must store, byte for byte. */
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
const processes = new ProcessMetadata();

/** The row of one exchange whose request is `req` (bytes), through a fresh native stitcher. */
function exchange(req: Uint8Array | string, opts: StitcherOptions = {}): HttpEventRow {
  const c = new ConnScript('c', process.pid).open(2).io('ingress', req).io('egress', 'HTTP/1.1 204 No Content\r\n\r\n');
  const s = new HttpStitcher({ processes, maxHeaderBytes: 4 << 20, ...opts });
  const rows = s.push(c.events);
  s.close();
  assert.equal(rows.length, 1, `one row for ${String(req).slice(0, 80)}`);
  return rows[0]!;
}

function requestWithHeaders(lines: readonly [string, string][]): Uint8Array {
  return Buffer.from(`GET / HTTP/1.1\r\n${lines.map(([n, v]) => `${n}: ${v}\r\n`).join('')}\r\n`);
}

test('vectors: headers', () => {
  for (const v of vectors.headers) {
    const row = exchange(requestWithHeaders(v.headers), v.config ? { redaction: v.config } : {});
    assert.equal(row.req_headers, v.json, v.case);
  }
});

test('vectors: request targets', () => {
  for (const v of vectors.targets) {
    const row = exchange(`GET ${v.target} HTTP/1.1\r\nHost: h\r\n\r\n`, v.config ? { redaction: v.config } : {});
    assert.equal(row.req_path, v.out, v.case);
  }
});

test('vectors: body text', () => {
  for (const v of vectors.bodies) {
    const body = Buffer.from(v.hex, 'hex');
    // A cut body is one byte longer than the prefix kept.
    const sent = v.cut ? Buffer.concat([body, Buffer.from('z')]) : body;
    const head = Buffer.from(`POST / HTTP/1.1\r\nContent-Length: ${sent.length}\r\n\r\n`);
    const row = exchange(Buffer.concat([head, sent]), { bodyPrefixBytes: v.cut ? body.length : 512 });
    assert.equal(row.req_body, v.text, v.case);
    assert.equal(row.req_body_size, sent.length, v.case);
  }
});

test('vectors: words of a name decide whether a parameter of that name is a credential', () => {
  const d = vectors.defaults;
  const pairs = new Set(d.credentialPairs.map(([a, b]) => `${a} ${b}`));
  for (const v of vectors.words) {
    const credential = v.words.some((w, i) => d.credentialSuffixes.some((s) => w.endsWith(s)) || (i > 0 && pairs.has(`${v.words[i - 1]} ${w}`)));
    const hidden = credential || d.params.includes(v.name.replace(/[A-Z]/g, (c) => c.toLowerCase()));
    const name = encodeURIComponent(v.name);
    const row = exchange(`GET /w?${name}=v HTTP/1.1\r\n\r\n`);
    assert.equal(row.req_path, `/w?${name}=${hidden ? vectors.marker : 'v'}`, `${v.name} (words ${v.words.join(', ')})`);
  }
});

test('every default header name, parameter name, auth scheme and token prefix is redacted, in any case', () => {
  const d = vectors.defaults;
  for (const name of d.headers) {
    const upper = name.toUpperCase();
    assert.equal(exchange(requestWithHeaders([[upper, 'v']])).req_headers, `{"${upper}":"${vectors.marker}"}`, name);
  }
  for (const name of d.params) {
    assert.equal(exchange(`GET /p?${name.toUpperCase()}=v HTTP/1.1\r\n\r\n`).req_path, `/p?${name.toUpperCase()}=${vectors.marker}`, name);
  }
  for (const suffix of d.credentialSuffixes) {
    assert.equal(exchange(requestWithHeaders([[`X-My-${suffix}`, 'v']])).req_headers, `{"X-My-${suffix}":"${vectors.marker}"}`, suffix);
  }
  for (const [a, b] of d.credentialPairs) {
    assert.equal(exchange(requestWithHeaders([[`X-${a}-${b}`, 'v']])).req_headers, `{"X-${a}-${b}":"${vectors.marker}"}`, `${a} ${b}`);
  }
  for (const scheme of d.authSchemes) {
    assert.equal(exchange(requestWithHeaders([['X-Up', `${scheme.toUpperCase()} abc`]])).req_headers, `{"X-Up":"${scheme.toUpperCase()} ${vectors.marker}"}`, scheme);
  }
  for (const prefix of d.tokenPrefixes) {
    const token = prefix + 'a'.repeat(d.tokenMinRun);
    assert.equal(exchange(requestWithHeaders([['X-Note', `t=${token}`]])).req_headers, `{"X-Note":"t=${vectors.marker}"}`, prefix);
    assert.equal(exchange(requestWithHeaders([['X-Note', `t=${token.slice(0, -1)}`]])).req_headers, `{"X-Note":"t=${token.slice(0, -1)}"}`, `${prefix} one short`);
  }
});

test('redaction settings: bad names and names with redaction off are refused', () => {
  assert.throws(() => checkRedaction({ headers: ['x y'] }), /'x y' is not an HTTP header name/);
  assert.throws(() => checkRedaction({ params: ['a b'] }), /'a b' is not a parameter name/);
  assert.throws(() => checkRedaction({ params: ['é'] }), /'é' is not a parameter name/);
  assert.throws(() => checkRedaction({ mode: 'off', headers: ['x-a'] }), /redaction is off/);
  assert.doesNotThrow(() => checkRedaction({ mode: 'listed', headers: ['X-Custom'], params: ['q'] }));
});

test('hostile shapes stay linear: 1 MB of eyJ, of & without =, of path parameters, 100k header fields', { timeout: 20_000 }, () => {
  const n = 1_000_000;
  const started = performance.now();
  assert.equal(exchange(`GET /x?${'eyJ'.repeat(n / 3)} HTTP/1.1\r\n\r\n`).req_path.length, 3 + 3 * Math.floor(n / 3));
  assert.equal(exchange(`GET /x?${'a&'.repeat(n / 2)} HTTP/1.1\r\n\r\n`).req_path.length, 3 + n);
  assert.equal(exchange(`GET /x${';a/'.repeat(n / 3)} HTTP/1.1\r\n\r\n`).req_path.length, 2 + 3 * Math.floor(n / 3));
  assert.equal(exchange(requestWithHeaders([['X-A', 'eyJ'.repeat(n / 3)]])).req_headers.length, 10 + 3 * Math.floor(n / 3));
  const many: [string, string][] = [];
  for (let i = 0; i < n / 10; i++) many.push([`X-${i}`, 'v']);
  assert.ok(exchange(requestWithHeaders(many)).req_headers.startsWith('{"X-0":"v","X-1":"v"'));
  // Quadratic work on these inputs takes minutes; linear work well under a second here.
  assert.ok(performance.now() - started < 5000, `took ${(performance.now() - started).toFixed(0)} ms`);
});
