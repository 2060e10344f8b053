import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { closes, datas, nodeServer, opens, record, run, stream, waitFor } from './helpers.js';

const rec = record();
after(() => rec.tracer.close());

test('a Node server and a curl client: both ends with exact addresses, roles, bytes and closes', async () => {
  const server = await nodeServer('127.0.0.1');
  const port = Number(server.firstLine);
  try {
    const curl = await run('curl', ['-sS', '-D', '-', `http://127.0.0.1:${port}/tcp-test?x=1`]);
    const clientPort = Number(/x-remote-port: (\d+)/i.exec(curl.stdout)?.[1]);
    assert.ok(clientPort > 0, `curl output has the server's view of its port: ${curl.stdout}`);
    await waitFor(rec, 'closes on both ends', () =>
      closes(rec.events, server.pid).length >= 1 && closes(rec.events, curl.pid).length >= 1);

    const [srv] = opens(rec.events, server.pid).filter((o) => o.localPort === port);
    assert.ok(srv, 'the server saw an open');
    assert.deepEqual(
      { role: srv.role, family: srv.family, localAddr: srv.localAddr, localPort: srv.localPort, remoteAddr: srv.remoteAddr, remotePort: srv.remotePort },
      { role: 2, family: 4, localAddr: '127.0.0.1', localPort: port, remoteAddr: '127.0.0.1', remotePort: clientPort });
    const [cli] = opens(rec.events, curl.pid);
    assert.ok(cli, 'the client saw an open');
    assert.deepEqual(
      { role: cli.role, family: cli.family, localAddr: cli.localAddr, localPort: cli.localPort, remoteAddr: cli.remoteAddr, remotePort: cli.remotePort },
      { role: 1, family: 4, localAddr: '127.0.0.1', localPort: clientPort, remoteAddr: '127.0.0.1', remotePort: port });

    const reqAtServer = stream(rec.events, srv.connKey, 'ingress');
    const respAtServer = stream(rec.events, srv.connKey, 'egress');
    assert.match(reqAtServer.toString('latin1'), /^GET \/tcp-test\?x=1 HTTP\/1\.1\r\n/);
    assert.match(respAtServer.toString('latin1'), /^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\nhello$/);
    // Two independent captures of one TCP stream must agree byte for byte.
    assert.deepEqual(stream(rec.events, cli.connKey, 'egress'), reqAtServer);
    assert.deepEqual(stream(rec.events, cli.connKey, 'ingress'), respAtServer);
    assert.equal(curl.stdout.slice(curl.stdout.indexOf('HTTP/1.1')), respAtServer.toString('latin1'));

    const [srvClose] = closes(rec.events, server.pid).filter((c) => c.connKey === srv.connKey);
    const [cliClose] = closes(rec.events, curl.pid).filter((c) => c.connKey === cli.connKey);
    assert.ok(srvClose && cliClose, 'both connections closed');
    assert.equal(srvClose.ingressBytes, BigInt(reqAtServer.length));
    assert.equal(srvClose.egressBytes, BigInt(respAtServer.length));
    assert.equal(cliClose.egressBytes, srvClose.ingressBytes);
    assert.equal(cliClose.ingressBytes, srvClose.egressBytes);

    // Timestamps are wall-clock ns and ordered open <= data <= close.
    const now = BigInt(Date.now()) * 1_000_000n;
    assert.ok(now - srv.tsNs < 30_000_000_000n && srv.tsNs <= now, `open ts ${srv.tsNs} near now ${now}`);
    const d = datas(rec.events, srv.connKey);
    assert.ok(srv.tsNs <= d[0]!.tsNs && d.at(-1)!.tsNs <= srvClose.tsNs);
  } finally {
    server.proc.kill();
  }
});
