import net from 'node:net';

/**
 * One HTTP/1.1 exchange over a raw socket, for tests that must send exactly the bytes they mean:
 * request targets that `fetch` or `http.request` would normalise or refuse (`/./api`, `#`,
 * absolute form), duplicated or contradictory headers, bodies that disagree with their
 * Content-Length. Sends `Connection: close` unless told otherwise and reads until the server
 * closes, `ms` passes, or a complete response arrived.
 */

export interface RawResponse {
  /** 0 when the server closed or the time ran out before a status line arrived. */
  readonly status: number;
  readonly headers: ReadonlyMap<string, string>;
  readonly body: Buffer;
  /** How the exchange ended: a complete response, the server closing, or the time running out. */
  readonly ended: 'response' | 'closed' | 'timeout';
  readonly ms: number;
}

/** The request line, headers and body, exactly as given (no header is added but Host). */
export interface RawRequest {
  readonly method: string;
  readonly target: string;
  readonly headers?: readonly (readonly [string, string])[];
  readonly body?: string | Buffer;
  /** Adds `content-length` for the body unless a header of that name is given (default true). */
  readonly contentLength?: boolean;
}

/** Serialises a request; the Host header comes from `host` unless one is given. */
export function requestBytes(host: string, req: RawRequest): Buffer {
  const headers = [...(req.headers ?? [])];
  const has = (n: string): boolean => headers.some(([k]) => k.toLowerCase() === n);
  if (!has('host')) headers.unshift(['host', host]);
  if (!has('connection')) headers.push(['connection', 'close']);
  const body = req.body === undefined ? Buffer.alloc(0) : Buffer.isBuffer(req.body) ? req.body : Buffer.from(req.body);
  if ((req.contentLength ?? true) && body.length > 0 && !has('content-length')) headers.push(['content-length', String(body.length)]);
  const head = `${req.method} ${req.target} HTTP/1.1\r\n${headers.map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`;
  return Buffer.concat([Buffer.from(head, 'latin1'), body]);
}

/** Parses what arrived (after any interim 1xx answers); `complete` says whether the body is whole. */
export function parseResponse(data: Buffer): { status: number; headers: Map<string, string>; body: Buffer; complete: boolean } {
  while (/^HTTP\/1\.[01] 1\d\d /.test(data.subarray(0, 16).toString('latin1')) && data.indexOf('\r\n\r\n') >= 0) data = data.subarray(data.indexOf('\r\n\r\n') + 4);
  const end = data.indexOf('\r\n\r\n');
  if (end < 0) return { status: 0, headers: new Map(), body: Buffer.alloc(0), complete: false };
  const lines = data.subarray(0, end).toString('latin1').split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0]!)?.[1] ?? 0);
  const headers = new Map<string, string>();
  for (const l of lines.slice(1)) {
    const i = l.indexOf(':');
    if (i > 0) headers.set(l.slice(0, i).trim().toLowerCase(), l.slice(i + 1).trim());
  }
  const rest = data.subarray(end + 4);
  const length = headers.get('content-length');
  if (length !== undefined) return { status, headers, body: rest.subarray(0, Number(length)), complete: rest.length >= Number(length) };
  if (headers.get('transfer-encoding')?.toLowerCase() === 'chunked') {
    const parts: Buffer[] = [];
    let at = 0;
    for (;;) {
      const nl = rest.indexOf('\r\n', at);
      if (nl < 0) return { status, headers, body: Buffer.concat(parts), complete: false };
      const size = parseInt(rest.subarray(at, nl).toString('latin1'), 16);
      if (!(size >= 0)) return { status, headers, body: Buffer.concat(parts), complete: false };
      if (size === 0) return { status, headers, body: Buffer.concat(parts), complete: true };
      if (rest.length < nl + 2 + size + 2) return { status, headers, body: Buffer.concat(parts), complete: false };
      parts.push(rest.subarray(nl + 2, nl + 2 + size));
      at = nl + 2 + size + 2;
    }
  }
  // 1xx, 204 and 304 have no body; anything else without a length runs to the close.
  return { status, headers, body: rest, complete: status === 204 || status === 304 || (status >= 100 && status < 200) };
}

/**
 * Sends raw bytes (a request, or deliberately not one) and reads the answer; `head` when the
 * request was a HEAD, whose answer has a head only.
 */
export function rawExchange(url: string, bytes: Buffer, ms = 5000, head = false): Promise<RawResponse> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const t0 = performance.now();
    const chunks: Buffer[] = [];
    let received = 0;
    // Once the head is in, how many bytes make the whole answer (undefined: chunked or to the close).
    let whole: number | undefined;
    let headSeen = false;
    const sock = net.connect({ host: hostname.replace(/^\[|\]$/g, ''), port: Number(port) });
    let done = false;
    const finish = (ended: RawResponse['ended']): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      const r = parseResponse(Buffer.concat(chunks));
      resolve({ status: r.status, headers: r.headers, body: r.body, ended, ms: performance.now() - t0 });
    };
    const timer = setTimeout(() => finish('timeout'), ms);
    sock.on('connect', () => sock.write(bytes));
    sock.on('data', (c: Buffer) => {
      chunks.push(c);
      received += c.length;
      // Parsing everything received on every chunk would be quadratic in a large answer: the
      // head is parsed until it is in, then only byte counts (or the chunked terminator) matter.
      if (whole !== undefined) {
        if (received >= whole) finish('response');
        return;
      }
      if (headSeen && !c.subarray(-5).equals(Buffer.from('0\r\n\r\n'))) return;
      const all = Buffer.concat(chunks);
      const r = parseResponse(all);
      if (r.complete || (head && r.status > 0)) return finish('response');
      if (r.status > 0 && !headSeen) {
        headSeen = true;
        const length = r.headers.get('content-length');
        if (length !== undefined) whole = all.length - r.body.length + Number(length);
      }
    });
    // A reset is one of the answers a hostile request may get; the caller reads `ended`.
    sock.on('error', () => finish('closed'));
    sock.on('close', () => finish('closed'));
  });
}

/** One request, exactly as given. */
export function rawRequest(url: string, req: RawRequest, ms = 5000): Promise<RawResponse> {
  return rawExchange(url, requestBytes(new URL(url).host, req), ms, req.method === 'HEAD');
}
