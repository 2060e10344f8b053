// Plays the part of the Grafana server for plugin tests: stores a datasource's settings with
// its secret server-side, and forwards `/api/datasources/proxy/uid/<uid>/engine/*` to the
// engine URL adding `Authorization: Bearer <token>` — what the route in plugin.json makes
// Grafana's data proxy do. It can also serve static files, so the harness page and its proxy
// share one origin as Grafana's UI and data proxy do.
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

/** Settings as Grafana stores them: jsonData in the clear, the token kept on the server. */
interface StoredDatasource {
  engineUrl?: string;
  token?: string;
}

/** A running proxy. */
export interface DataProxy {
  url: string;
  /** Saved datasources by uid. */
  datasources: Map<string, StoredDatasource>;
  /** Browser-visible base URL of a datasource (Grafana's `instanceSettings.url`). */
  instanceUrl(uid: string): string;
  /** Every path the browser asked for, to check that no request bypassed the proxy. */
  requests: string[];
  /** Engine paths whose browser request went away before the answer; the engine request was closed. */
  abandoned: string[];
  /** Breaks every engine answer still in flight (a stream, say), both sides: a dropped connection. */
  cut(): number;
  close(): Promise<void>;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.map': 'application/json',
  '.ttf': 'font/ttf',
  '.md': 'text/markdown',
};

const ROUTE = /^\/api\/datasources\/proxy\/uid\/([^/]+)\/engine(\/.*)?$/;
const SAVE = /^\/api\/datasources\/uid\/([^/]+)$/;

/** Starts the proxy on an ephemeral loopback port; `statics` maps URL prefixes to folders. */
export async function startDataProxy(statics: Record<string, string> = {}): Promise<DataProxy> {
  const datasources = new Map<string, StoredDatasource>();
  const requests: string[] = [];
  const abandoned: string[] = [];
  const inFlight = new Set<http.ServerResponse>();
  const server = http.createServer((req, res) => {
    const url = req.url ?? '/';
    requests.push(url);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const pathOnly = url.split('?')[0];
      const route = ROUTE.exec(pathOnly);
      if (route) {
        inFlight.add(res);
        res.on('close', () => inFlight.delete(res));
        return forward(datasources.get(route[1]), route[2] ?? '/', req, Buffer.concat(chunks), res, abandoned);
      }
      const save = SAVE.exec(pathOnly);
      if (save && req.method === 'PUT') {
        return saveDatasource(datasources, save[1], Buffer.concat(chunks), res);
      }
      for (const [prefix, dir] of Object.entries(statics)) {
        if (pathOnly.startsWith(prefix)) {
          return serveFile(dir, pathOnly.slice(prefix.length), res);
        }
      }
      json(res, 404, { message: `not found: ${pathOnly}` });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    datasources,
    requests,
    abandoned,
    cut: () => {
      const n = inFlight.size;
      for (const res of inFlight) res.destroy();
      return n;
    },
    instanceUrl: (uid) => `/api/datasources/proxy/uid/${uid}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function json(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

// Grafana answers a save with the secret's presence only (secureJsonFields), never its value.
function saveDatasource(store: Map<string, StoredDatasource>, uid: string, body: Buffer, res: http.ServerResponse): void {
  let parsed: { jsonData?: { engineUrl?: string }; secureJsonData?: { token?: string }; secureJsonFields?: { token?: boolean } };
  try {
    parsed = JSON.parse(body.toString('utf8')) as typeof parsed;
  } catch {
    return json(res, 400, { message: 'body is not JSON' });
  }
  const prev = store.get(uid) ?? {};
  const next: StoredDatasource = { engineUrl: parsed.jsonData?.engineUrl, token: prev.token };
  if (parsed.secureJsonData?.token !== undefined && parsed.secureJsonData.token !== '') {
    next.token = parsed.secureJsonData.token;
  } else if (parsed.secureJsonFields?.token === false) {
    next.token = undefined;
  }
  store.set(uid, next);
  json(res, 200, { jsonData: { engineUrl: next.engineUrl }, secureJsonFields: { token: next.token !== undefined } });
}

function forward(
  ds: StoredDatasource | undefined,
  rest: string,
  req: http.IncomingMessage,
  body: Buffer,
  res: http.ServerResponse,
  abandoned: string[]
): void {
  if (!ds?.engineUrl) {
    return json(res, 404, { message: 'datasource not found or has no engine URL' });
  }
  let target: URL;
  try {
    target = new URL(ds.engineUrl.replace(/\/+$/, '') + rest);
  } catch {
    return json(res, 502, { message: `bad engine URL ${ds.engineUrl}` });
  }
  const headers: http.OutgoingHttpHeaders = {
    'content-type': req.headers['content-type'] ?? 'application/json',
    // The route's header template: "Bearer {{ .SecureJsonData.token }}" renders even when empty.
    authorization: `Bearer ${ds.token ?? ''}`,
  };
  if (body.length > 0) {
    headers['content-length'] = body.length;
  }
  const out = http.request(target, { method: req.method, headers, timeout: 30_000 }, (up) => {
    res.writeHead(up.statusCode ?? 502, { 'content-type': up.headers['content-type'] ?? 'application/json' });
    up.pipe(res);
  });
  out.on('error', (e) => {
    if (!res.destroyed) json(res, 502, { message: `Bad Gateway: ${e.message}` });
  });
  // The browser went away (a cancelled fetch): close the engine request too, as Grafana's data
  // proxy does (its upstream request carries the incoming request's context).
  res.on('close', () => {
    if (!res.writableFinished) {
      abandoned.push(rest);
      out.destroy();
    }
  });
  out.end(body);
}

function serveFile(dir: string, rel: string, res: http.ServerResponse): void {
  const file = path.resolve(dir, './' + decodeURIComponent(rel));
  if (!file.startsWith(path.resolve(dir))) {
    return json(res, 403, { message: 'outside the served folder' });
  }
  fs.readFile(file, (err, data) => {
    if (err) {
      return json(res, 404, { message: `no file ${rel}` });
    }
    res.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream' });
    res.end(data);
  });
}
