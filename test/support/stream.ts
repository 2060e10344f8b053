/**
 * A reader of streamed answers (`stream: true`) for end-to-end tests: parses the NDJSON lines as
 * they arrive, notes when each arrived, and can pause like a slow client.
 */
import http from 'node:http';
import { nodeServer, type Peer } from './peers.js';

/** A keep-alive Node server on loopback (a child process, so the engine traces it) answering every request with `bodyBytes` bytes. */
export function bodyServer(bodyBytes: number): Promise<Peer> {
  return nodeServer(`
import http from 'node:http';
const body = Buffer.alloc(${bodyBytes}, 'y');
const s = http.createServer((req, res) => { req.resume(); req.on('end', () => { res.writeHead(200, {'content-length': body.length}); res.end(body); }); });
s.keepAliveTimeout = 60000;
s.listen(0, '127.0.0.1', () => console.log('listening ' + s.address().port));`);
}

/** One line of a stream, as parsed (the shapes of docs/api.md "Streaming"). */
interface Line {
  readonly t: string;
  readonly cursor?: string;
  readonly tables?: readonly { readonly name: string; readonly columns: readonly { readonly name: string }[]; readonly rowCount: number; readonly data: readonly (readonly unknown[])[] }[];
  readonly warning?: { readonly code: string; readonly message: string };
  readonly error?: { readonly code: string; readonly message: string };
  readonly rows?: number;
}

export interface StreamReader {
  readonly status: number;
  readonly lines: { readonly line: Line; readonly atMs: number }[];
  /** Every row of every batch of output `table`, keyed by column name, with its arrival time. */
  rows(table: string): { row: Record<string, unknown>; atMs: number }[];
  /** Resolves once `pred` holds over the lines read so far; rejects after `ms`. */
  until(pred: () => boolean, ms: number, what: string): Promise<void>;
  /** Resolves when the server ends or drops the connection. */
  readonly ended: Promise<void>;
  pause(): void;
  resume(): void;
  close(): void;
}

/** Opens a stream; resolves with the reader once the status line arrived (the body of an error status is in `lines` as an `error` line). */
export function openStream(url: string, body: Record<string, unknown>, headers: Record<string, string> = {}): Promise<StreamReader> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${url}/api/v1/query`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers } });
    req.on('error', reject);
    req.on('response', (res) => {
      const lines: { line: Line; atMs: number }[] = [];
      let rest = '';
      const waiters = new Set<() => void>();
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        const atMs = Date.now();
        const parts = (rest + chunk).split('\n');
        rest = parts.pop()!;
        for (const p of parts) if (p !== '') lines.push({ line: JSON.parse(p) as Line, atMs });
        for (const w of waiters) w();
      });
      const ended = new Promise<void>((done) => {
        res.on('end', done);
        res.on('close', done);
        res.on('error', () => done());
        // A paused response emits nothing more; its socket still says when the server hung up.
        res.socket.on('close', done);
      });
      if ((res.statusCode ?? 0) >= 300) {
        void ended.then(() => lines.push({ line: { t: 'error', ...(JSON.parse(rest) as object) }, atMs: Date.now() }));
      }
      resolve({
        status: res.statusCode ?? 0,
        lines,
        ended,
        rows(table) {
          const out: { row: Record<string, unknown>; atMs: number }[] = [];
          for (const { line, atMs } of lines) {
            for (const t of line.tables ?? []) {
              if (t.name !== table) continue;
              for (let i = 0; i < t.rowCount; i++) out.push({ row: Object.fromEntries(t.columns.map((c, j) => [c.name, t.data[j]![i]])), atMs });
            }
          }
          return out;
        },
        until(pred, ms, what) {
          if (pred()) return Promise.resolve();
          return new Promise((ok, fail) => {
            const timer = setTimeout(() => {
              waiters.delete(check);
              fail(new Error(`timed out after ${ms} ms waiting for ${what}; last lines: ${JSON.stringify(lines.slice(-3).map((l) => l.line.t))}`));
            }, ms);
            const check = (): void => {
              if (!pred()) return;
              clearTimeout(timer);
              waiters.delete(check);
              ok();
            };
            waiters.add(check);
          });
        },
        pause: () => res.pause(),
        resume: () => res.resume(),
        close: () => req.destroy(),
      });
    });
    req.end(JSON.stringify(body));
  });
}
