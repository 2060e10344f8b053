import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Direction, TraceRole } from '../capture/types.js';
import { ProcessMetadata } from '../meta/process.js';
import { HttpStitcher, type StitcherOptions } from '../../testkit/http/stitcher.js';
import type { HttpEventRow } from './schema.js';
import { ConnScript } from '../../testkit/http/connections.js';
import {
  NGINX_KEEPALIVE, NODE_KEEPALIVE, PYTHON_404, PYTHON_404_BODY, PYTHON_CLOSE_DELIMITED, PYTHON_GET, UPLOAD_BODY,
  type RecordedExchange,
} from '../../testkit/http/exchanges.js';

const PID = process.pid;
const processes = new ProcessMetadata();

function stitcher(opts: StitcherOptions = {}): HttpStitcher {
  return new HttpStitcher({ processes, ...opts });
}

type Writer = (c: ConnScript, dir: Direction, data: string, msgIndex: number) => void;
const whole: Writer = (c, dir, data) => void c.io(dir, data);

/** Plays exchanges on one connection; `role` decides which direction carries the requests. */
function play(exchanges: readonly RecordedExchange[], role: 1 | 2, write: Writer = whole, openRole: TraceRole | null = role): ConnScript {
  const c = new ConnScript('conn-1', PID);
  if (openRole !== null) c.open(openRole);
  const reqDir: Direction = role === 1 ? 'egress' : 'ingress';
  const respDir: Direction = role === 1 ? 'ingress' : 'egress';
  let i = 0;
  for (const x of exchanges) {
    write(c, reqDir, x.req, i++);
    for (const part of x.resp) write(c, respDir, part, i++);
  }
  return c;
}

/** The columns that do not depend on how bytes were split into reads. */
function shape(r: HttpEventRow): Record<string, unknown> {
  const { time_: _t, latency: _l, ...rest } = r;
  return rest;
}

const NODE_RESP_HEADERS = (len: number): string =>
  `{"Content-Type":"application/json","Set-Cookie":"[REDACTED]","Date":"Sun, 22 Nov 2026 04:49:51 GMT",` +
  `"Connection":"keep-alive","Keep-Alive":"timeout=5","Content-Length":"${len}"}`;

test('node keep-alive, server side: one row per exchange with the recorded values', () => {
  const s = stitcher();
  const rows = s.push(play(NODE_KEEPALIVE, 2).close().events);
  assert.deepEqual(rows.map((r) => [r.req_method, r.req_path, r.resp_status, r.resp_message, r.req_body_size, r.resp_body_size]), [
    ['GET', '/api/items?limit=10', 200, 'OK', 0, 34],
    ['GET', '/chunked', 200, 'OK', 0, 11],
    ['PATCH', '/api/items/7', 200, 'OK', 9, 36],
    ['DELETE', '/empty', 204, 'No Content', 0, 0],
    ['POST', '/upload', 200, 'OK', 1511, 38],
    ['OPTIONS', '/api', 200, 'OK', 0, 38],
  ]);
  const [get, chunked, patch, del, post] = rows as [HttpEventRow, HttpEventRow, HttpEventRow, HttpEventRow, HttpEventRow];
  assert.equal(get.resp_body, '{"ok":true,"method":"GET","got":0}');
  assert.equal(get.content_type, 1);
  assert.equal(get.resp_headers, NODE_RESP_HEADERS(34));
  assert.equal(get.req_headers,
    '{"host":"127.0.0.1:45251","connection":"keep-alive","accept":"*/*","accept-language":"*",' +
    '"sec-fetch-mode":"cors","user-agent":"node","accept-encoding":"gzip, deflate"}');
  assert.equal(chunked.resp_body, 'hello world');
  assert.equal(chunked.content_type, 0);
  assert.equal(patch.req_body, '{"qty":4}');
  assert.match(patch.req_headers, /"authorization":"\[REDACTED\]"/);
  assert.doesNotMatch(patch.req_headers, /s3cr3t/);
  assert.equal(del.resp_body, '');
  assert.equal(post.req_body, UPLOAD_BODY.slice(0, 512));
  for (const r of rows) {
    assert.equal(r.trace_role, 2);
    assert.equal(r.major_version, 1);
    assert.equal(r.minor_version, 1);
    assert.equal(r.encrypted, false);
    assert.equal(r.local_addr, '127.0.0.1');
    assert.equal(r.local_port, 40000);
    assert.equal(r.remote_addr, '127.0.0.1');
    assert.equal(r.remote_port, 8080);
    assert.equal(r.pid, PID);
    assert.equal(r.comm, 'node');
    assert.match(r.cmdline, /node/);
    assert.match(r.upid, new RegExp(`^00000000-${PID.toString(16).padStart(8, '0').slice(0, 4)}-`));
  }
  const st = s.stats();
  assert.equal(st.rows, 6);
  assert.equal(st.unpairedResponses + st.droppedExchanges + st.diedMidExchange + st.resyncs + st.parseErrors, 0);
  assert.equal(st.connections, 0);
  assert.equal(st.bufferedBytes, 0);
});

test('time_ is the last response byte and latency runs from the first request byte', () => {
  // ConnScript: open at t0, then one syscall per 1000 ns: req at t0+1000, resp head t0+2000, body t0+3000.
  const t0 = 1_700_000_000_000_000_000n;
  const rows = stitcher().push(play([PYTHON_GET], 2).events);
  assert.equal(rows.length, 1);
  assert.equal(rows[0]!.time_, t0 + 3000n);
  assert.equal(rows[0]!.latency, 2000);
  assert.equal(rows[0]!.major_version, 1);
  assert.equal(rows[0]!.minor_version, 0);
  assert.equal(rows[0]!.resp_body, 'hi\n');
  // A request split over reads: latency starts at the first one.
  const c = new ConnScript('c', PID).open(2).split('ingress', PYTHON_GET.req, [10, 20]);
  for (const p of PYTHON_GET.resp) c.io('egress', p);
  const split = stitcher().push(c.events);
  assert.equal(split[0]!.time_, t0 + 5000n);
  assert.equal(split[0]!.latency, 4000);
});

const SUITES: Array<[string, readonly RecordedExchange[], number]> = [
  ['node', NODE_KEEPALIVE, 6],
  ['nginx', NGINX_KEEPALIVE, 4],
  ['python', [PYTHON_GET], 1],
];

for (const [name, exchanges, n] of SUITES) {
  for (const role of [1, 2] as const) {
    test(`${name}, role ${role}: every split offset of every message gives the same rows`, () => {
      const base = stitcher().push(play(exchanges, role).events).map(shape);
      assert.equal(base.length, n);
      const total = exchanges.reduce((k, x) => k + 1 + x.resp.length, 0);
      for (let target = 0; target < total; target++) {
        let len = 0;
        play(exchanges, role, (_c, _d, data, i) => {
          if (i === target) len = Buffer.byteLength(data);
        });
        for (let k = 1; k < len; k++) {
          const split: Writer = (c, dir, data, i) => void (i === target ? c.split(dir, data, [k]) : c.io(dir, data));
          const rows = stitcher().push(play(exchanges, role, split).events).map(shape);
          assert.deepEqual(rows, base, `message ${target} split at ${k}`);
        }
      }
    });

    test(`${name}, role ${role}: 1-byte reads and writes give the same rows`, () => {
      const base = stitcher().push(play(exchanges, role).events).map(shape);
      const rows = stitcher().push(play(exchanges, role, (c, dir, data) => void c.bytewise(dir, data)).events).map(shape);
      assert.deepEqual(rows, base);
    });

    test(`${name}, role ${role}: all requests in one write (pipelining) pair in order`, () => {
      const base = stitcher().push(play(exchanges, role).events).map(shape);
      const c = new ConnScript('conn-1', PID).open(role);
      const reqDir: Direction = role === 1 ? 'egress' : 'ingress';
      c.io(reqDir, exchanges.map((x) => x.req).join(''));
      c.io(reqDir === 'egress' ? 'ingress' : 'egress', exchanges.flatMap((x) => x.resp).join(''));
      assert.deepEqual(stitcher().push(c.events).map(shape), base);
    });
  }
}

test('the tracer chunk cap: a big write arriving in many chunk events', () => {
  const c = new ConnScript('c', PID).open(2);
  c.io('ingress', NODE_KEEPALIVE[4]!.req, { chunk: 100 });
  c.io('egress', NODE_KEEPALIVE[4]!.resp[0]!, { chunk: 7 });
  const rows = stitcher().push(c.events);
  assert.equal(rows.length, 1);
  assert.equal(rows[0]!.req_body_size, 1511);
  assert.equal(rows[0]!.req_body, UPLOAD_BODY.slice(0, 512));
});

test('chunk events out of order and duplicated within the window', () => {
  const c = new ConnScript('c', PID).open(2);
  c.io('ingress', NODE_KEEPALIVE[4]!.req, { chunk: 200 });
  c.io('egress', NODE_KEEPALIVE[4]!.resp[0]!);
  const [open, ...rest] = c.events;
  const data = rest.slice(0, -1);
  const shuffled = [data[3]!, data[0]!, data[5]!, data[1]!, data[0]!, data[2]!, data[4]!, data[7]!, data[6]!, data[8]!, data[3]!];
  const s = stitcher();
  const rows = s.push([open!, ...shuffled, ...data.slice(9), rest.at(-1)!]);
  assert.equal(rows.length, 1);
  assert.equal(rows[0]!.req_body, UPLOAD_BODY.slice(0, 512));
  assert.equal(rows[0]!.req_body_size, 1511);
  assert.ok(s.stats().duplicateBytes >= 400);
});

test('client side: requests on egress, role from the open event', () => {
  const rows = stitcher().push(play(NGINX_KEEPALIVE, 1).events);
  assert.deepEqual(rows.map((r) => [r.trace_role, r.req_method, r.resp_status, r.resp_body_size]), [
    [1, 'GET', 200, 43],
    [1, 'HEAD', 200, 0],
    [1, 'GET', 304, 0],
    [1, 'GET', 404, 153],
  ]);
});

test('no open event (connection older than capture): role inferred, addresses empty, counted', () => {
  for (const role of [1, 2] as const) {
    const s = stitcher();
    const rows = s.push(play(NGINX_KEEPALIVE, role, whole, null).events);
    assert.equal(rows.length, 4);
    assert.ok(rows.every((r) => r.trace_role === role && r.remote_addr === '' && r.remote_port === 0 && r.local_addr === ''));
    assert.equal(s.stats().missingOpen, 1);
  }
});

test('open event with role 0: the side whose egress carries requests is the client', () => {
  const rows = stitcher().push(play(NGINX_KEEPALIVE, 1, whole, 0).events);
  assert.ok(rows.length === 4 && rows.every((r) => r.trace_role === 1));
  const rows2 = stitcher().push(play(NGINX_KEEPALIVE, 2, whole, 0).events);
  assert.ok(rows2.length === 4 && rows2.every((r) => r.trace_role === 2));
});

test('capture began mid-stream: the partial message is skipped, the next ones parse', () => {
  const c = new ConnScript('c', PID);
  const x = NGINX_KEEPALIVE[0]!;
  // The tail of a response, then a full exchange; no open event.
  c.io('ingress', x.resp[0]!.slice(60));
  c.io('egress', NGINX_KEEPALIVE[3]!.req);
  c.io('ingress', NGINX_KEEPALIVE[3]!.resp[0]!);
  const s = stitcher();
  const rows = s.push(c.events);
  assert.deepEqual(rows.map((r) => [r.req_path, r.resp_status]), [['/missing', 404]]);
});

test('python http.server: HTTP/1.0, a connection per request, 404 body across writes', () => {
  const s = stitcher();
  const a = play([PYTHON_GET], 2).close().events;
  const b = new ConnScript('conn-2', PID);
  b.open(2);
  b.io('ingress', PYTHON_404.req);
  for (const p of PYTHON_404.resp) b.io('egress', p);
  b.close();
  const rows = s.push([...a, ...b.events]);
  assert.deepEqual(rows.map((r) => [r.resp_status, r.resp_message, r.resp_body_size, r.minor_version]), [
    [200, 'OK', 3, 0],
    [404, 'File not found', 335, 0],
  ]);
  assert.equal(rows[1]!.resp_body, PYTHON_404_BODY.slice(0, 512));
  assert.equal(rows[1]!.content_type, 0);
  assert.equal(s.stats().diedMidExchange, 0);
});

test('a body delimited by the close completes at the close; without the close there is no row', () => {
  const s = stitcher();
  const c = play([PYTHON_CLOSE_DELIMITED], 2);
  assert.deepEqual(s.push(c.events), []);
  const rows = s.push(new ConnScript('conn-1', PID).close().events);
  assert.equal(rows.length, 1);
  assert.equal(rows[0]!.resp_body, 'streamed until close\n');
  assert.equal(rows[0]!.resp_body_size, 21);
  // time_ is the last body byte, not the close.
  assert.equal(rows[0]!.time_, 1_700_000_000_000_000_000n + 4000n);
});

test('connection closed mid-response: no row, counted; response without request: counted', () => {
  const s = stitcher();
  const x = NODE_KEEPALIVE[0]!;
  const c = new ConnScript('c', PID).open(2).io('ingress', x.req).io('egress', x.resp[0]!.slice(0, 200)).close();
  assert.deepEqual(s.push(c.events), []);
  assert.equal(s.stats().diedMidExchange, 1);
  const d = new ConnScript('d', PID).open(2).io('ingress', x.req).close();
  assert.deepEqual(s.push(d.events), []);
  assert.equal(s.stats().diedMidExchange, 2);
  assert.equal(s.stats().droppedExchanges, 1);
  assert.equal(s.stats().unansweredRequests, 1);
  const e = new ConnScript('e', PID).open(1).io('ingress', NGINX_KEEPALIVE[0]!.resp[0]!).close();
  assert.deepEqual(s.push(e.events), []);
  assert.equal(s.stats().unpairedResponses, 1);
  assert.equal(s.stats().connections, 0);
});

test('chunked with extensions and trailers; chunk sizes in hex and upper case', () => {
  const req = 'POST /ingest HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nTrailer: X-Checksum\r\n\r\n' +
    '4;name=value;q="quoted"\r\nWiki\r\n5 ; ext\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\nX-Checksum: abc\r\n\r\n';
  const resp = 'HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok';
  const base = stitcher().push(new ConnScript('c', PID).open(2).io('ingress', req).io('egress', resp).events);
  assert.equal(base.length, 1);
  assert.equal(base[0]!.req_body, 'Wikipedia in\r\n\r\nchunks.');
  assert.equal(base[0]!.req_body_size, 23);
  for (let k = 1; k < req.length; k++) {
    const rows = stitcher().push(new ConnScript('c', PID).open(2).split('ingress', req, [k]).io('egress', resp).events);
    assert.deepEqual(rows.map(shape), base.map(shape), `split at ${k}`);
  }
});

test('HEAD, 1xx, 204 and 304 have no body even with Content-Length; the next response parses', () => {
  const reqs = 'HEAD /big HTTP/1.1\r\nHost: h\r\n\r\nGET /a HTTP/1.1\r\nHost: h\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\nGET /c HTTP/1.1\r\nHost: h\r\n\r\n';
  const resps = 'HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n' +
    'HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\nHTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n' +
    'HTTP/1.1 304 Not Modified\r\nContent-Length: 7\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc';
  const s = stitcher();
  const rows = s.push(new ConnScript('c', PID).open(2).io('ingress', reqs).io('egress', resps).events);
  assert.deepEqual(rows.map((r) => [r.req_method, r.req_path, r.resp_status, r.resp_body_size, r.resp_body]), [
    ['HEAD', '/big', 200, 0, ''],
    ['GET', '/a', 204, 0, ''],
    ['GET', '/b', 304, 0, ''],
    ['GET', '/c', 200, 3, 'abc'],
  ]);
  assert.equal(s.stats().interimResponses, 1);
});

test('Expect: 100-continue: the interim 100 is not a row, latency covers the whole exchange', () => {
  const c = new ConnScript('c', PID).open(1)
    .io('egress', 'PUT /files/x HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n')
    .io('ingress', 'HTTP/1.1 100 Continue\r\n\r\n')
    .io('egress', 'hello')
    .io('ingress', 'HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n');
  const s = stitcher();
  const rows = s.push(c.events);
  assert.deepEqual(rows.map((r) => [r.req_method, r.req_body, r.req_body_size, r.resp_status, r.latency]), [
    ['PUT', 'hello', 5, 201, 3000],
  ]);
  assert.equal(s.stats().interimResponses, 1);
});

test('a final response before the request body (417 to 100-continue) pairs; the row comes at the close', () => {
  const s = stitcher();
  const c = new ConnScript('c', PID).open(2)
    .io('ingress', 'POST /up HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n')
    .io('egress', 'HTTP/1.1 417 Expectation Failed\r\nContent-Length: 0\r\n\r\n');
  assert.deepEqual(s.push(c.events), []);
  const rows = s.push(c.close().events.slice(-1));
  assert.deepEqual(rows.map((r) => [r.req_path, r.req_body_size, r.resp_status]), [['/up', 0, 417]]);
  assert.equal(s.stats().diedMidExchange, 0);
});

test('Upgrade: websocket frames after the 101 are not parsed; a refused upgrade goes on', () => {
  const s = stitcher();
  const ws = new ConnScript('ws', PID).open(2)
    .io('ingress', 'GET /chat HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n')
    .io('egress', 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n')
    .io('ingress', new Uint8Array([0x81, 0x85, 1, 2, 3, 4, 0x49, 0x67, 0x6f, 0x68, 0x6e]))
    .io('egress', 'GET /not-http HTTP/1.1\r\n\r\n')
    .close();
  const rows = s.push(ws.events);
  assert.deepEqual(rows.map((r) => [r.req_path, r.resp_status]), [['/chat', 101]]);
  assert.equal(s.stats().upgrades, 1);
  assert.equal(s.stats().parseErrors, 0);
  const refused = new ConnScript('r', PID).open(2)
    .io('ingress', 'GET /chat HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n')
    .io('egress', 'HTTP/1.1 426 Upgrade Required\r\nContent-Length: 0\r\n\r\n')
    .io('ingress', 'GET /plain HTTP/1.1\r\nHost: h\r\n\r\n')
    .io('egress', 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n');
  assert.deepEqual(s.push(refused.events).map((r) => [r.req_path, r.resp_status]), [['/chat', 426], ['/plain', 200]]);
});

test('CONNECT: the tunnel after a 2xx is not parsed', () => {
  const s = stitcher();
  const c = new ConnScript('c', PID).open(1)
    .io('egress', 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n')
    .io('ingress', 'HTTP/1.1 200 Connection established\r\n\r\n')
    .io('egress', new Uint8Array([0x16, 0x03, 0x01, 0x02, 0x00, 0x01]))
    .io('ingress', 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n');
  assert.deepEqual(s.push(c.events).map((r) => [r.req_method, r.req_path, r.resp_status]), [['CONNECT', 'example.com:443', 200]]);
  assert.equal(s.stats().upgrades, 1);
});

test('every method, including WebDAV and unknown tokens', () => {
  const methods = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'TRACE', 'PATCH', 'PROPFIND', 'MKCOL', 'PURGE', 'X-CUSTOM'];
  const c = new ConnScript('c', PID).open(2);
  for (const m of methods) {
    c.io('ingress', `${m} /m/${m} HTTP/1.1\r\nHost: h\r\n\r\n`);
    c.io('egress', m === 'HEAD' ? 'HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n' : 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
  }
  const rows = stitcher().push(c.events);
  assert.deepEqual(rows.map((r) => r.req_method), methods);
  assert.deepEqual(rows.map((r) => r.req_path), methods.map((m) => `/m/${m}`));
});

test('a gap inside a Content-Length body: the row keeps the true size, the prefix stops at the gap', () => {
  const body = 'x'.repeat(100) + 'y'.repeat(900);
  const c = new ConnScript('c', PID).open(2)
    .io('ingress', 'POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 1000\r\n\r\n')
    .io('ingress', body, { captured: 100 })
    .io('egress', 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok')
    .io('ingress', 'GET /next HTTP/1.1\r\nHost: h\r\n\r\n')
    .io('egress', 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n');
  const s = stitcher();
  const rows = s.push(c.events);
  assert.deepEqual(rows.map((r) => [r.req_path, r.req_body_size, r.req_body]), [
    ['/p', 1000, 'x'.repeat(100)],
    ['/next', 0, ''],
  ]);
  assert.equal(s.stats().gapBytes, 900);
  assert.equal(s.stats().resyncs, 0);
});

test('a gap inside a chunked body is skipped; a gap over a chunk-size line resyncs', () => {
  const chunk = 'z'.repeat(300);
  const head = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n';
  const ok = new ConnScript('c', PID).open(1)
    .io('egress', 'GET /a HTTP/1.1\r\nHost: h\r\n\r\n')
    .io('ingress', head)
    .io('ingress', `12c\r\n${chunk}\r\n`, { captured: 50 })
    .io('ingress', '0\r\n\r\n');
  const rows = stitcher().push(ok.events);
  assert.deepEqual(rows.map((r) => [r.resp_body_size, r.resp_body.length]), [[300, 45]]);

  const bad = new ConnScript('c', PID).open(1)
    .io('egress', 'GET /a HTTP/1.1\r\nHost: h\r\n\r\n')
    .io('ingress', head + '5\r\nhello\r\n')
    .io('ingress', `12c\r\n${chunk}\r\n`, { captured: 0 })
    .io('ingress', '0\r\n\r\n')
    .io('egress', 'GET /b HTTP/1.1\r\nHost: h\r\n\r\n')
    .io('ingress', 'HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nb');
  const s = stitcher();
  const rows2 = s.push(bad.events);
  // The gap eats the framing of /a's response: no row for /a (counted), /b pairs correctly.
  assert.deepEqual(rows2.map((r) => [r.req_path, r.resp_body]), [['/b', 'b']]);
  assert.equal(s.stats().droppedExchanges, 1);
  assert.ok(s.stats().resyncs >= 1);
});

test('a gap in request headers resyncs; the response to the lost request is not misattributed', () => {
  const c = new ConnScript('c', PID).open(2)
    .io('ingress', 'GET /first HTTP/1.1\r\nHost: h\r\nX-Long: ' + 'q'.repeat(200) + '\r\n\r\n', { captured: 20 })
    .io('egress', 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfirst')
    .io('ingress', 'GET /second HTTP/1.1\r\nHost: h\r\n\r\n')
    .io('egress', 'HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nsecond');
  const s = stitcher();
  const rows = s.push(c.events);
  assert.deepEqual(rows.map((r) => [r.req_path, r.resp_body]), [['/second', 'second']]);
  assert.equal(s.stats().droppedExchanges, 1);
  assert.equal(s.stats().resyncs, 1);
});

test('a whole request lost in a gap: its response is counted as unpaired, not paired with the next', () => {
  const c = new ConnScript('c', PID).open(2)
    .io('ingress', 'GET /lost HTTP/1.1\r\nHost: h\r\n\r\n', { captured: 0 })
    .io('egress', 'HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nlost')
    .io('ingress', 'GET /kept HTTP/1.1\r\nHost: h\r\n\r\n')
    .io('egress', 'HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nkept');
  const s = stitcher();
  assert.deepEqual(s.push(c.events).map((r) => [r.req_path, r.resp_body]), [['/kept', 'kept']]);
  assert.equal(s.stats().unpairedResponses, 1);
});

test('garbage, an invalid chunk size and an oversized header are counted and skipped', () => {
  const s = stitcher({ maxHeaderBytes: 4096 });
  const c = new ConnScript('c', PID).open(2)
    .io('ingress', '\x16\x03\x01 not http at all\r\n\r\n')
    .io('ingress', 'GET /huge HTTP/1.1\r\nX-Big: ' + 'b'.repeat(1 << 20) + '\r\n\r\n')
    .io('ingress', 'POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nxx\r\n0\r\n\r\n')
    .io('ingress', 'GET /ok HTTP/1.1\r\nHost: h\r\n\r\n')
    .io('egress', 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
  const rows = s.push(c.events);
  const st = s.stats();
  assert.equal(st.parseErrors, 1);
  assert.equal(st.oversizedHeaders, 1);
  assert.equal(st.invalidChunks, 1);
  // /c's head was complete, so its response slot is held: the 200 is consumed by it.
  assert.deepEqual(rows, []);
  assert.equal(st.droppedExchanges, 1);
});

test('redaction: defaults, credential-looking names, value patterns, the target, a listed set, and off', () => {
  const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln';
  const req = 'GET /cb?code=abc&q=1 HTTP/1.1\r\nHost: h\r\nAuthorization: Basic dTpw\r\nCookie: a=1\r\nX-Api-Key: k1\r\n' +
    `Proxy-Authorization: p\r\nX-Auth-Token: t\r\nX-Service-Secret: s\r\nX-Upstream: ${jwt}\r\nAccept: */*\r\nAccept: text/html\r\n\r\n`;
  const resp = 'HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nContent-Length: 0\r\n\r\n';
  const run = (o: StitcherOptions): HttpEventRow =>
    stitcher(o).push(new ConnScript('c', PID).open(2).io('ingress', req).io('egress', resp).events)[0]!;
  const d = run({});
  assert.equal(d.req_headers,
    '{"Host":"h","Authorization":"[REDACTED]","Cookie":"[REDACTED]","X-Api-Key":"[REDACTED]",' +
    '"Proxy-Authorization":"[REDACTED]","X-Auth-Token":"[REDACTED]","X-Service-Secret":"[REDACTED]","X-Upstream":"[REDACTED]",' +
    '"Accept":"*/*, text/html"}');
  assert.equal(d.resp_headers, '{"Set-Cookie":"[REDACTED]","Content-Length":"0"}');
  assert.equal(d.req_path, '/cb?code=[REDACTED]&q=1');
  const listed = run({ redaction: { mode: 'listed', headers: ['host'], params: ['q'] } });
  assert.match(listed.req_headers, /"Host":"\[REDACTED\]","Authorization":"Basic dTpw"/);
  assert.ok(listed.req_headers.includes(jwt));
  assert.equal(listed.req_path, '/cb?code=abc&q=[REDACTED]');
  const off = run({ redaction: { mode: 'off' } });
  assert.match(off.resp_headers, /"Set-Cookie":"a=1, b=2"/);
  assert.equal(off.req_path, '/cb?code=abc&q=1');
});

test('body prefix 0 keeps no body; sizes stay true', () => {
  const c = new ConnScript('c', PID).open(2)
    .io('ingress', 'POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello')
    .io('egress', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n');
  const rows = stitcher({ bodyPrefixBytes: 0 }).push(c.events);
  assert.equal(rows.length, 1);
  assert.deepEqual([rows[0]!.req_body, rows[0]!.req_body_size, rows[0]!.resp_body, rows[0]!.resp_body_size], ['', 5, '', 3]);
});

test('body prefix length is configurable and cuts UTF-8 cleanly; invalid bytes are replaced', () => {
  const body = 'é'.repeat(10);
  const c = new ConnScript('c', PID).open(2)
    .io('ingress', `POST / HTTP/1.1\r\nContent-Length: 20\r\n\r\n${body}`)
    .io('egress', 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n')
    .io('egress', new Uint8Array([0x61, 0xff, 0x62]));
  const rows = stitcher({ bodyPrefixBytes: 5 }).push(c.events);
  assert.equal(rows[0]!.req_body, 'éé');
  assert.equal(rows[0]!.req_body_size, 20);
  assert.equal(rows[0]!.resp_body, 'a\ufffdb');
});

test('many connections interleaved keep their own state', () => {
  const scripts = [0, 1, 2, 3].map((i) => play(NODE_KEEPALIVE, (i % 2 + 1) as 1 | 2, (c, dir, data) => void c.split(dir, data, [7, 50]), (i % 2 + 1) as 1 | 2));
  scripts.forEach((sc, i) => sc.events.forEach((e) => Object.assign(e, { connKey: `k${i}` })));
  const merged = [];
  for (let j = 0; j < Math.max(...scripts.map((x) => x.events.length)); j++) {
    for (const sc of scripts) if (sc.events[j]) merged.push(sc.events[j]!);
  }
  const rows = stitcher().push(merged);
  assert.equal(rows.length, 24);
});

test('flushIdle: a truncated last write completes its row; idle connections are evicted', () => {
  const s = stitcher({ reorderNs: 1_000_000, idleNs: 10_000_000_000 });
  const c = new ConnScript('c', PID).open(2)
    .io('ingress', 'GET /big HTTP/1.1\r\nHost: h\r\n\r\n')
    .io('egress', 'HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n' + 'w'.repeat(5000), { captured: 4096 });
  assert.deepEqual(s.push(c.events), []);
  const t = c.tsNs;
  assert.deepEqual(s.flushIdle(t), []);
  const rows = s.flushIdle(t + 2_000_000n);
  assert.deepEqual(rows.map((r) => [r.req_path, r.resp_body_size]), [['/big', 5000]]);
  const d = new ConnScript('d', PID).open(2).io('ingress', 'GET /wait HTTP/1.1\r\n\r\n');
  s.push(d.events);
  s.flushIdle(d.tsNs + 20_000_000_000n);
  const st = s.stats();
  assert.equal(st.evictionsIdle, 2);
  assert.equal(st.connections, 0);
  assert.equal(st.bufferedBytes, 0);
});

test('bounded memory: a hole that never fills is given up at the window; the byte bound evicts', () => {
  const s = stitcher({ maxPendingBytes: 10_000, maxBufferedBytes: 50_000 });
  const c = new ConnScript('c', PID).open(2);
  c.io('ingress', 'x'.repeat(100), { captured: 0 });
  const events = c.events.slice(0, 2);
  for (let i = 0; i < 30; i++) {
    events.push({ kind: 'data', connKey: 'c', pid: PID, fd: 5, direction: 'ingress', tls: false, tsNs: 1n, pos: BigInt(1000 + i * 1000), size: 1000, chunkOffset: 0, data: new Uint8Array(1000) });
  }
  s.push(events);
  assert.ok(s.stats().reorderOverflows >= 1);
  assert.ok(s.stats().bufferedBytes <= 11_000);
  for (let k = 0; k < 20; k++) {
    const d = new ConnScript(`big${k}`, PID).open(2).io('ingress', 'GET / HTTP/1.1\r\nX: ' + 'h'.repeat(3000));
    s.push(d.events);
    assert.ok(s.stats().bufferedBytes <= 50_000);
  }
  assert.ok(s.stats().evictionsMemory >= 1);
});

test('more requests waiting than maxPipelined: the oldest give up their place, later pairs stay right', () => {
  const c = new ConnScript('c', PID).open(2);
  c.io('ingress', [1, 2, 3, 4, 5, 6].map((i) => `GET /r${i} HTTP/1.1\r\nHost: h\r\n\r\n`).join(''));
  c.io('egress', [1, 2, 3, 4, 5, 6].map((i) => `HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n${i}${i}`).join(''));
  const s = stitcher({ maxPipelined: 4 });
  assert.deepEqual(s.push(c.events).map((r) => [r.req_path, r.resp_body]), [['/r3', '33'], ['/r4', '44'], ['/r5', '55'], ['/r6', '66']]);
  assert.equal(s.stats().queueOverflows, 2);
  assert.equal(s.stats().droppedExchanges, 2);
});

test('shedding: the stretch the kernel shed is neither a gap nor a lost exchange, later exchanges pair', () => {
  const get = (p: string): string => `GET ${p} HTTP/1.1\r\nHost: h\r\n\r\n`;
  const ok = (b: string): string => `HTTP/1.1 200 OK\r\nContent-Length: ${b.length}\r\n\r\n${b}`;
  const c = new ConnScript('c', PID).open(2)
    .io('ingress', get('/kept')).io('egress', ok('a'))
    .shed()
    .unseen('ingress', get('/shed1')).unseen('egress', ok('bb'))
    .unseen('ingress', get('/shed2')).unseen('egress', ok('cc'))
    .io('ingress', get('/after')).io('egress', ok('ddd'))
    .close();
  const s = stitcher();
  assert.deepEqual(s.push(c.events).map((r) => [r.req_path, r.resp_body]), [['/kept', 'a'], ['/after', 'ddd']]);
  const st = s.stats();
  assert.equal(st.shedGaps, 2, 'one shed stretch per direction');
  assert.deepEqual([st.gaps, st.droppedExchanges, st.unpairedResponses, st.resyncs, st.parseErrors], [0, 0, 0, 2, 0]);
});

test('shedding that begins with a request in flight loses that exchange as shed, not dropped', () => {
  const c = new ConnScript('c', PID).open(2)
    .io('ingress', 'GET /inflight HTTP/1.1\r\nHost: h\r\n\r\n')
    .shed()
    .unseen('egress', 'HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx')
    .io('ingress', 'GET /next HTTP/1.1\r\nHost: h\r\n\r\n').io('egress', 'HTTP/1.1 204 No Content\r\n\r\n');
  const s = stitcher();
  assert.deepEqual(s.push(c.events).map((r) => r.req_path), ['/next']);
  assert.deepEqual([s.stats().shedExchanges, s.stats().droppedExchanges], [1, 0]);
});

test('a long Content-Length body: the kernel is asked to skip it past the prefix, and the skipped bytes are not gaps', () => {
  const body = 200_000;
  const head = `HTTP/1.1 200 OK\r\nContent-Length: ${body}\r\n\r\n`;
  const s = stitcher({ skipBodyOver: 65_536, bodyPrefixBytes: 16 });
  const c = new ConnScript('c', PID).open(2).io('ingress', 'GET /big HTTP/1.1\r\nHost: h\r\n\r\n').io('egress', head + 'p'.repeat(1000));
  assert.deepEqual(s.push(c.events), []);
  const asked = s.ctlCalls();
  // The egress body ends at the head plus the body; everything before that end may go uncopied.
  assert.deepEqual(asked, [{ connId: 1, skipTo: [head.length + body, 0], muted: false }]);
  // What the kernel then sends: sizes and positions, no bytes.
  c.io('egress', 'q'.repeat(body - 1000), { captured: 0 }).io('ingress', 'GET /next HTTP/1.1\r\nHost: h\r\n\r\n').io('egress', 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
  const rows = s.push(c.events.slice(3));
  assert.deepEqual(rows.map((r) => [r.req_path, r.resp_body_size, r.resp_body]), [['/big', body, 'p'.repeat(16)], ['/next', 2, 'ok']]);
  assert.deepEqual([s.stats().gaps, s.stats().gapBytes, s.stats().skipRequests], [0, 0, 1]);
});

test('a protocol switch (101) asks the kernel to mute the connection', () => {
  const c = new ConnScript('c', PID).open(2)
    .io('ingress', 'GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n')
    .io('egress', 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n');
  const s = stitcher();
  assert.deepEqual(s.push(c.events).map((r) => r.resp_status), [101]);
  assert.deepEqual(s.ctlCalls().map((x) => x.muted), [true]);
  assert.equal(s.stats().muteRequests, 1);
});
