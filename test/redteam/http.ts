/**
 * Hostile HTTP requests for the red team, as raw bytes: odd methods and request targets
 * (encoded, doubled, dot segments, case, huge, binary), headers that are huge, duplicated or
 * contradictory (Content-Length, Content-Type, Authorization, Transfer-Encoding), and JSON
 * bodies of the wrong types, deeply nested, huge, with prototype-pollution keys, or not JSON.
 * Query bodies mostly carry scripts from pxl.ts.
 */
import { requestBytes } from '../support/rawhttp.js';
import { pxlScript, type Rand } from './pxl.js';

/** One request to send, and what may legitimately come back. */
export interface HostileRequest {
  /** A short label for reports. */
  readonly what: string;
  readonly bytes: Buffer;
  readonly method: string;
  /** The request is deliberately incomplete: the server may wait for the rest, the client gives up. */
  readonly incomplete: boolean;
}

const pick = <T>(r: Rand, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
const int = (r: Rand, lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));

const ROUTES = ['/api/v1/query', '/api/v1/schema', '/api/v1/partial', '/api/v1/node', '/healthz', '/readyz', '/metrics', '/', '/api', '/api/v2/query', '/favicon.ico'];
const METHODS = ['GET', 'POST', 'HEAD', 'PUT', 'DELETE', 'OPTIONS', 'PATCH', 'TRACE', 'get', 'FOO', 'M'.repeat(64), 'PROPFIND'];

/** A path spelled as an attacker would: encoded, doubled, dotted, recased, padded. */
function path(r: Rand): string {
  let p = pick(r, ROUTES);
  const edits = r() < 0.4 ? 0 : int(r, 1, 3);
  for (let i = 0; i < edits; i++) {
    p = pick(r, [
      () => p.replace(/[a-z]/, (c) => `%${c.charCodeAt(0).toString(16)}`),
      () => p.replace(/[a-z]/g, (c) => (r() < 0.3 ? `%${c.charCodeAt(0).toString(16).toUpperCase()}` : c)),
      () => p.replace('/', '%2F'),
      () => p.replace(/%/g, '%25'),
      () => `/${p}`,
      () => p.replace(/\//g, '//'),
      () => `/./${p.slice(1)}`,
      () => `/x/..${p}`,
      () => p.toUpperCase(),
      () => `${p}/`,
      () => `${p}?${pick(r, ['x', 'a=1&a=2', '%zz', 'q=' + 'y'.repeat(4000), '', '__proto__[x]=1'])}`,
      () => `${p}#${pick(r, ['', 'frag', '/../'])}`,
      () => `${p};x=1`,
      () => `${p}%00`,
      () => `${p}${pick(r, ['%', '%G1', '%c0%af', '%e2%82'])}`,
      () => `/${'a/'.repeat(int(r, 100, 4000))}`,
      () => `http://127.0.0.1${p}`,
      () => p.replace(/\//g, '\\'),
      () => `${p}\u00ff\u00e9`,
      () => '*',
    ])();
  }
  return p;
}

/** JSON text that is not what the API wants, in the ways a client or attacker gets it wrong. */
function oddJson(r: Rand, script: () => string): string {
  const s = (): string => JSON.stringify(script());
  return pick(r, [
    () => `{"script": ${pick(r, ['42', 'null', '[]', '{}', 'true', '"x"'])}}`,
    () => `{"script": ${s()}, "range": ${pick(r, ['{"from": "a", "to": "b"}', '{"from": 10, "to": 5}', '{"from": -1e300, "to": 1e300}', '{"from": 0}', '[]', 'null', '{"from": 1.5, "to": 2.5}'])}}`,
    () => `{"script": ${s()}, "intervalMs": ${pick(r, ['0', '-1', '1e308', '"10s"', '0.000001', 'null'])}}`,
    () => `{"script": ${s()}, "maxDataPoints": ${pick(r, ['0', '1.5', '-1', '1e12', '"x"', '2147483648'])}}`,
    () => `{"script": ${s()}, "variables": ${pick(r, ['{"a": 1}', '{"a": [1, 2]}', '{"a": {"b": "c"}}', '{"__proto__": "x"}', '{"constructor": ["prototype"]}', `{"v": ${JSON.stringify('x'.repeat(100_000))}}`, `{"v": ${JSON.stringify(Array.from({ length: 20_000 }, (_, i) => `v${i}`))}}`])}}`,
    () => `{"script": ${s()}, "__proto__": {"isAdmin": true}}`,
    () => `{"script": ${s()}, "constructor": {"prototype": {"polluted": 1}}}`,
    () => `{"script": ${s()}, "extra": 1}`,
    () => `${'['.repeat(int(r, 1000, 200_000))}${']'.repeat(int(r, 0, 10))}`,
    () => `{"script": ${s()}, "range": ${'{"x":'.repeat(int(r, 100, 50_000))}1${'}'.repeat(10)}}`,
    () => `{"script": ${JSON.stringify('#'.repeat(int(r, 200_000, 300_000)))}}`,
    () => `{"script": ${s()}, "pad": ${JSON.stringify('p'.repeat(int(r, 900_000, 1_200_000)))}}`,
    () => `{"script": ${s()}, "pad": [${Array.from({ length: int(r, 1000, 150_000) }, () => '0').join(',')}]}`,
    () => s().slice(0, int(r, 0, 40)),
    () => `{"script": ${s()}}garbage`,
    () => `{'script': 'import px'}`,
    () => `{"script": "\\ud800\\udfff\\ud800", "range": {"from": NaN, "to": Infinity}}`,
    () => `\ufeff{"script": ${s()}}`,
    () => `{"script": ${s()}, "script": "import px"}`,
    () => '',
  ])();
}

/** A body for `/api/v1/partial`: fragments built by no broker. */
function oddFragments(r: Rand): string {
  const src = { kind: 'source', table: pick(r, ['http_events', 'nope', '__proto__']), columns: pick(r, [['latency'], ['req_path', 'latency'], [], ['nope'], Array.from({ length: 500 }, () => 'latency')]), startNs: pick(r, [null, '0', '-1', '99999999999999999999999', 'x']), endNs: null };
  let plan: unknown = src;
  for (let d = int(r, 0, pick(r, [3, 200])); d > 0; d--) {
    plan = pick(r, [
      () => ({ kind: 'filter', input: plan, predicate: { kind: 'call', fn: pick(r, ['greaterThan', 'eval', 'regex_match', 'contains']), args: [{ kind: 'column', name: 'latency', type: 'INT64' }, { kind: 'literal', type: 'INT64', value: pick(r, [1, { big: '1' }, { big: 'x' }, 'a', null]) }], type: 'BOOLEAN' } }),
      () => ({ kind: 'map', input: plan, exprs: [{ name: pick(r, ['x', '__proto__', '']), expr: { kind: 'column', name: 'latency', type: pick(r, ['INT64', 'BOGUS']) } }] }),
      () => ({ kind: 'limit', input: plan, n: pick(r, [1, -1, 1e12, 0.5]) }),
      () => ({ kind: 'agg', input: plan, groups: ['latency'], aggs: [{ name: 'n', fn: pick(r, ['count', 'quantiles', 'nope']), args: [{ kind: 'column', name: 'latency', type: 'INT64' }], type: 'INT64' }] }),
      () => ({ kind: pick(r, ['join', 'union', 'display', '__proto__']), input: plan }),
    ])();
  }
  const fragments = Array.from({ length: pick(r, [1, 1, 2, 65]) }, (_, i) => ({ id: String(i), plan, lookups: pick(r, [[], [{ column: 'latency', fns: ['upid_to_pod_name', 'nope'] }]]) }));
  return JSON.stringify({ nowNs: pick(r, ['0', String(BigInt(Date.now()) * 1_000_000n), 'x', '-1']), fragments });
}

/** Generates one hostile request for an API at `host` whose token is `token`. */
export function hostileRequest(r: Rand, host: string, token: string): HostileRequest {
  const method = r() < 0.75 ? pick(r, ['POST', 'POST', 'GET']) : pick(r, METHODS);
  const target = r() < 0.6 ? '/api/v1/query' : path(r);
  let body: string | undefined;
  let what: string;
  if (method === 'GET' || method === 'HEAD' || r() < 0.05) {
    body = r() < 0.9 ? undefined : 'unexpected body';
    what = `${method} ${target.slice(0, 60)}`;
  } else if (target.includes('partial') && r() < 0.7) {
    body = oddFragments(r);
    what = `${method} ${target.slice(0, 40)} fragments`;
  } else if (r() < 0.7) {
    const extra = r() < 0.3 ? { range: { from: Date.now() - pick(r, [60_000, 3600_000, 864e5 * 365]), to: Date.now() }, intervalMs: pick(r, [1, 1000, 60_000]), maxDataPoints: pick(r, [1, 100, 100_000]) } : {};
    body = JSON.stringify({ script: pxlScript(r), ...extra });
    what = `${method} ${target.slice(0, 40)} script`;
  } else {
    body = oddJson(r, () => pxlScript(r));
    what = `${method} ${target.slice(0, 40)} odd json`;
  }
  const headers: [string, string][] = [];
  const auth = r();
  if (auth < 0.8) headers.push(['authorization', `Bearer ${token}`]);
  else if (auth < 0.85) headers.push(['authorization', `Bearer ${token}`], ['authorization', 'Bearer wrong']);
  else if (auth < 0.9) headers.push(['authorization', pick(r, ['Bearer', 'Basic eDp5', `bearer ${token}`, `Bearer  ${token} `, `Bearer ${token}\u00ff`, 'Bearer ' + 'A'.repeat(8000)])]);
  if (body !== undefined) {
    const ct = r();
    if (ct < 0.8) headers.push(['content-type', 'application/json']);
    else {
      const odd: [string, string][][] = [
        [],
        [['content-type', 'text/plain']],
        [['content-type', 'application/json; charset=utf-16']],
        [['content-type', 'application/json'], ['content-type', 'text/html']],
        [['content-type', 'application/x-www-form-urlencoded']],
        [['content-type', '*/*']],
        [['content-type', 'application/json\u0000']],
      ];
      headers.push(...pick(r, odd));
    }
  }
  let incomplete = false;
  let raw: Buffer | undefined;
  const bodyBytes = body === undefined ? Buffer.alloc(0) : Buffer.from(body);
  const h = r();
  if (h < 0.04) headers.push(['x-big', 'b'.repeat(int(r, 17_000, 70_000))]);
  else if (h < 0.08) for (let i = int(r, 100, 400); i > 0; i--) headers.push([`x-h${i}`, 'v'.repeat(60)]);
  else if (h < 0.1) for (let i = 0; i < 200; i++) headers.push(['x-dup', String(i)]);
  else if (h < 0.13 && body !== undefined) {
    headers.push(['content-length', String(bodyBytes.length)], ['content-length', String(bodyBytes.length + 1)]);
  } else if (h < 0.16 && body !== undefined) {
    const v = pick(r, ['-1', 'abc', '1e3', ' 5', '0x10', '99999999999999999999']);
    headers.push(['content-length', v]);
    // ' 5' is a valid length (whitespace around a value is allowed): more than an empty body has.
    incomplete = v.trim() === '5' && bodyBytes.length < 5;
  } else if (h < 0.19 && body !== undefined) {
    // Shorter than the body: the rest reads as a second request on the same connection.
    headers.push(['content-length', String(Math.max(0, bodyBytes.length - int(r, 1, 20)))]);
  } else if (h < 0.21 && body !== undefined) {
    headers.push(['content-length', String(bodyBytes.length + int(r, 1, 1000))]);
    incomplete = true;
  } else if (h < 0.25 && body !== undefined) {
    headers.push(['transfer-encoding', pick(r, ['chunked', 'chunked, gzip', 'identity', 'xchunked'])]);
    // Both framings at once: request smuggling's favourite ambiguity.
    if (r() < 0.3) headers.push(['content-length', String(bodyBytes.length)]);
    const chunked = pick(r, [`${bodyBytes.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`, `zz\r\n${body}\r\n0\r\n\r\n`, `${(bodyBytes.length + 5).toString(16)}\r\n${body}\r\n`, `${body}`]);
    raw = Buffer.from(chunked);
    incomplete = !chunked.endsWith('0\r\n\r\n');
  } else if (h < 0.27) {
    headers.push([pick(r, ['bad header', 'x\u0000y', '', 'x-obs']), pick(r, ['v', 'a\r\n folded', '\u0000'])]);
  } else if (h < 0.29) {
    headers.push(['expect', pick(r, ['100-continue', 'nonsense'])]);
  } else if (h < 0.31) {
    headers.push(['connection', pick(r, ['keep-alive', 'upgrade', 'close, close'])], ['upgrade', 'websocket']);
  }
  const bytes = raw
    ? Buffer.concat([requestBytes(host, { method, target, headers, contentLength: false }), raw])
    : requestBytes(host, { method, target, headers, ...(body !== undefined ? { body: bodyBytes } : {}) });
  return { what, bytes, method, incomplete };
}
