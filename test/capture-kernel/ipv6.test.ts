import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { closes, nodeServer, opens, record, run, stream, waitFor } from './helpers.js';

const rec = record();
after(() => rec.tracer.close());

test('IPv6 loopback: both ends render ::1 with the right ports', async () => {
  const server = await nodeServer('::1');
  const port = Number(server.firstLine);
  try {
    const curl = await run('curl', ['-sS', '-g', '-D', '-', `http://[::1]:${port}/v6`]);
    const clientPort = Number(/x-remote-port: (\d+)/i.exec(curl.stdout)?.[1]);
    await waitFor(rec, 'closes on both ends', () =>
      closes(rec.events, server.pid).length >= 1 && closes(rec.events, curl.pid).length >= 1);
    const [srv] = opens(rec.events, server.pid);
    const [cli] = opens(rec.events, curl.pid);
    assert.ok(srv && cli);
    assert.deepEqual([srv.role, srv.family, srv.localAddr, srv.localPort, srv.remoteAddr, srv.remotePort],
      [2, 6, '::1', port, '::1', clientPort]);
    assert.deepEqual([cli.role, cli.family, cli.localAddr, cli.localPort, cli.remoteAddr, cli.remotePort],
      [1, 6, '::1', clientPort, '::1', port]);
    assert.match(stream(rec.events, srv.connKey, 'ingress').toString('latin1'), /^GET \/v6 HTTP\/1\.1\r\n/);
  } finally {
    server.proc.kill();
  }
});

test('a dual-stack server reached over IPv4 shows plain IPv4 addresses on its IPv6 socket', async () => {
  const server = await nodeServer('::');
  const port = Number(server.firstLine);
  try {
    const curl = await run('curl', ['-sS', '-D', '-', `http://127.0.0.1:${port}/mapped`]);
    const clientPort = Number(/x-remote-port: (\d+)/i.exec(curl.stdout)?.[1]);
    await waitFor(rec, 'the server close', () => closes(rec.events, server.pid).length >= 1);
    const [srv] = opens(rec.events, server.pid);
    assert.ok(srv);
    assert.deepEqual([srv.role, srv.family, srv.localAddr, srv.localPort, srv.remoteAddr, srv.remotePort],
      [2, 6, '127.0.0.1', port, '127.0.0.1', clientPort]);
  } finally {
    server.proc.kill();
  }
});
