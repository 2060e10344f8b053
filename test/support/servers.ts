/**
 * Node servers for the capture tests, each in its own child process (see peers.ts): a well
 * behaved HTTP/1.1 server, a raw TCP server that breaks HTTP on request, and a TCP echo server.
 */
import { nodeServer, type Cert, type Peer } from './peers.js';

/** The body the servers send for a size: 'a'..'z' repeated, like peers.filesDir. */
export function pattern(size: number): Buffer {
  const b = Buffer.alloc(size);
  for (let i = 0; i < size; i++) b[i] = 97 + (i % 26);
  return b;
}

/** The de-chunked body of `/chunked?parts=N` from {@link httpServer}. */
export function chunkedBody(parts: number): string {
  let s = '';
  for (let i = 0; i < parts; i++) s += `part-${String(i).padStart(3, '0')}:${'c'.repeat(i % 7)}\n`;
  return s;
}

/**
 * Node's http server on `host` with keep-alive. `?size=N` answers N pattern bytes with a
 * Content-Length (5 by default), `?status=S` with that status (204 and 304 without a body);
 * `/chunked?parts=N` answers {@link chunkedBody} in N chunked writes. Headers up to 4 MiB are accepted so oversized-header tests get a real 200.
 * With `tls`: Node's https server (OpenSSL inside the node binary), run by `node` if given.
 */
export function httpServer(host = '127.0.0.1', tls?: Cert, node?: string): Promise<Peer> {
  const opts = tls ? `key: readFileSync(${JSON.stringify(tls.key)}), cert: readFileSync(${JSON.stringify(tls.cert)}), ` : '';
  return nodeServer(`
import http from 'node:${tls ? 'https' : 'http'}';
import { readFileSync } from 'node:fs';
const pattern = (n) => { const b = Buffer.alloc(n); for (let i = 0; i < n; i++) b[i] = 97 + (i % 26); return b; };
const s = http.createServer({ ${opts}maxHeaderSize: 4 << 20, keepAliveTimeout: 30000 }, (req, res) => {
  req.resume();
  req.on('end', () => {
    const u = new URL(req.url, 'http://x');
    if (u.pathname === '/chunked') {
      const parts = Number(u.searchParams.get('parts'));
      let i = 0;
      const next = () => {
        if (i === parts) return res.end();
        res.write('part-' + String(i).padStart(3, '0') + ':' + 'c'.repeat(i % 7) + '\\n');
        i++;
        setImmediate(next);
      };
      return next();
    }
    const status = Number(u.searchParams.get('status') ?? 200);
    res.statusCode = status;
    if (status === 204 || status === 304) return res.end();
    const body = pattern(Number(u.searchParams.get('size') ?? 5));
    res.setHeader('content-length', body.length);
    res.end(body);
  });
});
s.listen(0, ${JSON.stringify(host)}, () => console.log('listening ' + s.address().port));
`, node);
}

/**
 * A raw TCP server that reads one request head and answers by path: `/die` sends half of a
 * Content-Length body then closes (`/die-rst`: resets); `/until-close?size=N` sends N bytes
 * delimited by the close alone (no length, no chunking); `/badchunk` sends a chunked body with an invalid size line;
 * `/writev?n=N` corks, writes a head and N 8-byte segments, then uncorks (libuv sends them with
 * one writev); anything else gets a plain 200 "fine". Every answer closes the connection. With
 * `unsolicited`, it instead answers every connection at once, before any request.
 */
export function rawHttpServer(opts: { unsolicited?: boolean } = {}): Promise<Peer> {
  return nodeServer(`
import net from 'node:net';
const unsolicited = ${opts.unsolicited === true};
const ok = 'HTTP/1.1 200 OK\\r\\nContent-Length: 4\\r\\nConnection: close\\r\\n\\r\\nfine';
const s = net.createServer((sock) => {
  sock.on('error', () => {});
  if (unsolicited) return void sock.end(ok);
  let head = '';
  sock.on('data', (c) => {
    if (head.includes('\\r\\n\\r\\n')) return;
    head += c.toString('latin1');
    if (!head.includes('\\r\\n\\r\\n')) return;
    const u = new URL(head.split(' ')[1] ?? '/', 'http://x');
    if (u.pathname === '/die' || u.pathname === '/die-rst') {
      sock.write('HTTP/1.1 200 OK\\r\\nContent-Length: 1000\\r\\n\\r\\n' + 'd'.repeat(500));
      setTimeout(() => (u.pathname === '/die' ? sock.end() : sock.resetAndDestroy()), 100);
    } else if (u.pathname === '/until-close') {
      sock.end('HTTP/1.1 200 OK\\r\\nConnection: close\\r\\n\\r\\n' + 'u'.repeat(Number(u.searchParams.get('size'))));
    } else if (u.pathname === '/badchunk') {
      sock.end('HTTP/1.1 200 OK\\r\\nTransfer-Encoding: chunked\\r\\nConnection: close\\r\\n\\r\\nzz\\r\\nhello\\r\\n0\\r\\n\\r\\n');
    } else if (u.pathname === '/writev') {
      const n = Number(u.searchParams.get('n'));
      sock.cork();
      sock.write('HTTP/1.1 200 OK\\r\\nContent-Length: ' + n * 8 + '\\r\\nConnection: close\\r\\n\\r\\n');
      for (let i = 0; i < n; i++) sock.write('s' + String(i).padStart(5, '0') + ';\\n');
      sock.uncork();
      sock.end();
    } else {
      sock.end(ok);
    }
  });
});
s.listen(0, '127.0.0.1', () => console.log('listening ' + s.address().port));
`);
}

/** The body `/writev?n=N` of {@link rawHttpServer} sends. */
export function writevBody(n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += 's' + String(i).padStart(5, '0') + ';\n';
  return s;
}

/** A TCP echo server (not HTTP) on 127.0.0.1. */
export function echoServer(): Promise<Peer> {
  return nodeServer(`
import net from 'node:net';
const s = net.createServer((sock) => { sock.on('error', () => {}); sock.pipe(sock); });
s.listen(0, '127.0.0.1', () => console.log('listening ' + s.address().port));
`);
}
