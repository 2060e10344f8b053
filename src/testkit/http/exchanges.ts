/**
 * Recorded HTTP/1.x exchanges, byte for byte as real clients and servers sent them (captured
 * through a recording TCP proxy on loopback): curl 7.88.1 and Node 20's fetch (undici) as
 * clients; nginx 1.22.1, Python 3.11's http.server and Node 20's http module as servers. Used
 * by the stitcher's tests and bench. Not used by the engine.
 */

/** One request and the response it got (the response may be several writes). */
export interface RecordedExchange {
  readonly req: string;
  readonly resp: readonly string[];
}

const NODE_RESP_HEAD = (len: number): string =>
  'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nSet-Cookie: sid=abc123; HttpOnly\r\nSet-Cookie: theme=dark\r\n' +
  `Date: Sun, 22 Nov 2026 04:49:51 GMT\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\nContent-Length: ${len}\r\n\r\n`;

const UNDICI = 'accept: */*\r\naccept-language: *\r\nsec-fetch-mode: cors\r\nuser-agent: node\r\naccept-encoding: gzip, deflate\r\n';

/** A 1511-byte JSON body that curl sent with --data-binary. */
export const UPLOAD_BODY = '{"blob":"' + 'a'.repeat(1500) + '"}\n';

/** Node fetch and curl against a Node http server, one keep-alive connection. */
export const NODE_KEEPALIVE: readonly RecordedExchange[] = [
  {
    req: `GET /api/items?limit=10 HTTP/1.1\r\nhost: 127.0.0.1:45251\r\nconnection: keep-alive\r\n${UNDICI}\r\n`,
    resp: [NODE_RESP_HEAD(34) + '{"ok":true,"method":"GET","got":0}'],
  },
  {
    req: `GET /chunked HTTP/1.1\r\nhost: 127.0.0.1:45251\r\nconnection: keep-alive\r\n${UNDICI}\r\n`,
    resp: [
      'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nDate: Sun, 22 Nov 2026 04:49:51 GMT\r\nConnection: keep-alive\r\n' +
        'Keep-Alive: timeout=5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n',
    ],
  },
  {
    req: 'PATCH /api/items/7 HTTP/1.1\r\nhost: 127.0.0.1:45251\r\nconnection: keep-alive\r\ncontent-type: application/json\r\n' +
      `authorization: Bearer s3cr3t\r\n${UNDICI}content-length: 9\r\n\r\n{"qty":4}`,
    resp: [NODE_RESP_HEAD(36) + '{"ok":true,"method":"PATCH","got":9}'],
  },
  {
    req: `DELETE /empty HTTP/1.1\r\nhost: 127.0.0.1:45251\r\nconnection: keep-alive\r\n${UNDICI}\r\n`,
    resp: ['HTTP/1.1 204 No Content\r\nDate: Sun, 22 Nov 2026 04:49:51 GMT\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\n\r\n'],
  },
  {
    req: 'POST /upload HTTP/1.1\r\nHost: 127.0.0.1:45251\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n' +
      `Content-Type: application/json\r\nContent-Length: 1511\r\n\r\n${UPLOAD_BODY}`,
    resp: [NODE_RESP_HEAD(38) + '{"ok":true,"method":"POST","got":1511}'],
  },
  {
    req: 'OPTIONS /api HTTP/1.1\r\nHost: 127.0.0.1:45251\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n',
    resp: [NODE_RESP_HEAD(38) + '{"ok":true,"method":"OPTIONS","got":0}'],
  },
];

const NGINX_HEAD =
  'HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Sun, 22 Nov 2026 04:49:43 GMT\r\nContent-Type: text/html\r\n' +
  'Content-Length: 43\r\nLast-Modified: Sun, 22 Nov 2026 04:49:42 GMT\r\nConnection: keep-alive\r\n' +
  'ETag: "6b027466-2b"\r\nAccept-Ranges: bytes\r\n\r\n';
const CURL = 'Host: 127.0.0.1:35731\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n';

/** curl against nginx: GET, HEAD (no body despite Content-Length), 304, 404. */
export const NGINX_KEEPALIVE: readonly RecordedExchange[] = [
  { req: `GET / HTTP/1.1\r\n${CURL}\r\n`, resp: [NGINX_HEAD + '<html><body>hello from nginx</body></html>\n'] },
  { req: `HEAD / HTTP/1.1\r\n${CURL}\r\n`, resp: [NGINX_HEAD] },
  {
    req: `GET / HTTP/1.1\r\n${CURL}If-None-Match: "6b027466-2b"\r\n\r\n`,
    resp: [
      'HTTP/1.1 304 Not Modified\r\nServer: nginx/1.22.1\r\nDate: Sun, 22 Nov 2026 04:49:43 GMT\r\n' +
        'Last-Modified: Sun, 22 Nov 2026 04:49:42 GMT\r\nConnection: keep-alive\r\nETag: "6b027466-2b"\r\n\r\n',
    ],
  },
  {
    req: `GET /missing HTTP/1.1\r\n${CURL}\r\n`,
    resp: [
      'HTTP/1.1 404 Not Found\r\nServer: nginx/1.22.1\r\nDate: Sun, 22 Nov 2026 04:49:43 GMT\r\nContent-Type: text/html\r\n' +
        'Content-Length: 153\r\nConnection: keep-alive\r\n\r\n<html>\r\n<head><title>404 Not Found</title></head>\r\n' +
        '<body>\r\n<center><h1>404 Not Found</h1></center>\r\n<hr><center>nginx/1.22.1</center>\r\n</body>\r\n</html>\r\n',
    ],
  },
];

/** The 404 page Python's http.server sends (335 bytes). */
export const PYTHON_404_BODY =
  '<!DOCTYPE HTML>\n<html lang="en">\n    <head>\n        <meta charset="utf-8">\n        <title>Error response</title>\n' +
  '    </head>\n    <body>\n        <h1>Error response</h1>\n        <p>Error code: 404</p>\n' +
  '        <p>Message: File not found.</p>\n        <p>Error code explanation: 404 - Nothing matches the given URI.</p>\n' +
  '    </body>\n</html>\n';

/** curl against Python's http.server: HTTP/1.0 answers, head and body in separate writes. */
export const PYTHON_GET: RecordedExchange = {
  req: 'GET /a.txt HTTP/1.1\r\nHost: 127.0.0.1:35619\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n',
  resp: [
    'HTTP/1.0 200 OK\r\nServer: SimpleHTTP/0.6 Python/3.11.7\r\nDate: Sun, 22 Nov 2026 04:49:57 GMT\r\n' +
      'Content-type: text/plain\r\nContent-Length: 3\r\nLast-Modified: Sun, 22 Nov 2026 04:49:55 GMT\r\n\r\n',
    'hi\n',
  ],
};

/** Python's 404, on its own connection. */
export const PYTHON_404: RecordedExchange = {
  req: 'GET /nope HTTP/1.1\r\nHost: 127.0.0.1:35619\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n',
  resp: [
    'HTTP/1.0 404 File not found\r\nServer: SimpleHTTP/0.6 Python/3.11.7\r\nDate: Sun, 22 Nov 2026 04:49:57 GMT\r\n' +
      'Connection: close\r\nContent-Type: text/html;charset=utf-8\r\nContent-Length: 335\r\n\r\n',
    PYTHON_404_BODY,
  ],
};

/**
 * A BaseHTTPRequestHandler that writes no Content-Length on an HTTP/1.0 response: the body
 * ends when the server closes.
 */
export const PYTHON_CLOSE_DELIMITED: RecordedExchange = {
  req: 'GET /stream HTTP/1.1\r\nHost: 127.0.0.1:35619\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n',
  resp: [
    'HTTP/1.0 200 OK\r\nServer: BaseHTTP/0.6 Python/3.11.7\r\nDate: Sun, 22 Nov 2026 04:49:57 GMT\r\nContent-Type: text/plain\r\n\r\n',
    'streamed ',
    'until close\n',
  ],
};
