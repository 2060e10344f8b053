import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HeadCache, parseHeaderSection } from './heads.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

test('a repeated header section is parsed once and handed back as the same object', () => {
  const cache = new HeadCache();
  const a = enc('xxHost: a\r\nContent-Length: 5\r\n\r\n');
  const b = enc('Host: a\r\nContent-Length: 5\r\n\r\nyy');
  const first = cache.section(a, 2, a.length)!;
  assert.deepEqual(first.headers, ['Host', 'host', 'a', 'Content-Length', 'content-length', '5']);
  assert.equal(first.contentLength, 5);
  assert.equal(cache.section(b, 0, b.length - 2), first, 'same bytes at another offset: the cached section');
  const other = enc('Host: b\r\nContent-Length: 5\r\n\r\n');
  const second = cache.section(other, 0, other.length)!;
  assert.notEqual(second, first);
  assert.deepEqual(second.headers.slice(0, 3), ['Host', 'host', 'b']);
});

test('framing facts: chunked, upgrade, absent and conflicting lengths, bad lines', () => {
  const p = (s: string) => parseHeaderSection(enc(s), 0, enc(s).length);
  assert.equal(p('Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n')!.chunked, true);
  assert.equal(p('Transfer-Encoding: chunked, gzip\r\n\r\n')!.chunked, false);
  assert.equal(p('Upgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n\r\n')!.upgrade, true);
  assert.equal(p('Upgrade: websocket\r\n\r\n')!.upgrade, false);
  assert.equal(p('\r\n')!.contentLength, -1);
  assert.equal(p('Content-Length: 1\r\nContent-Length: 2\r\n\r\n'), null);
  assert.equal(p('Content-Length: 1x\r\n\r\n'), null);
  assert.equal(p(' folded\r\n\r\n'), null);
  assert.equal(p('no colon here\r\n\r\n'), null);
  assert.deepEqual(p('X: a\r\n  b \r\n\r\n')!.headers, ['X', 'x', 'a b']);
  assert.equal(p('X-Name: café\r\n\r\n')!.headers[2], 'café', 'non-ASCII values are decoded as UTF-8');
});

test('start lines: requests and responses parsed, repeats shared, anything else refused', () => {
  const cache = new HeadCache();
  const line = (s: string) => { const b = enc(s); return cache.startLine(b, 0, b.length); };
  const get = line('GET /a?b=1 HTTP/1.1')!;
  assert.deepEqual(get, { method: 'GET', target: '/a?b=1', status: 0, reason: '', major: 1, minor: 1 });
  assert.equal(line('GET /a?b=1 HTTP/1.1'), get);
  assert.deepEqual(line('HTTP/1.0 404 Not Found'), { method: '', target: '', status: 404, reason: 'Not Found', major: 1, minor: 0 });
  assert.deepEqual(line('HTTP/1.1 200'), { method: '', target: '', status: 200, reason: '', major: 1, minor: 1 });
  assert.equal(line('GET /a HTTP/2'), null);
  assert.equal(line('hello world'), null);
});
