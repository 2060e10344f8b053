import type { Diagnostic } from '../pxl/diagnostic.js';
import type { Cell, ErrorResponse, ExplainResponse, QueryRequest, QueryResponse, ResultTable, StreamLine } from './contract.js';

/*
 * A small typed client of the engine (and broker) API, docs/api.md: `query` answers tables,
 * `stream` yields a stream's lines as an async iterator and reconnects with the last cursor it
 * saw when the connection drops, so a consumer sees each row once. `wisp query` uses it; it is
 * exported by the package as `wisp/client`.
 */

export type { Cell, ExplainResponse, QueryRequest, QueryResponse, ResultTable, StreamLine } from './contract.js';

/** Where the API is and how to reach it. */
export interface ClientOptions {
  /** The engine's or broker's base URL, e.g. http://127.0.0.1:7070. */
  readonly url: string;
  /** Sent as `Authorization: Bearer <token>`. */
  readonly token?: string;
}

/** An error answer of the API (its diagnostic), or a stream's `error` line. */
export class WispError extends Error {
  constructor(
    readonly status: number,
    readonly diagnostic: Diagnostic,
  ) {
    super(`${diagnostic.code}: ${diagnostic.message}`);
    this.name = 'WispError';
  }
}

/** What `stream` yields: the lines of docs/api.md, and a note each time it reconnects. */
export type StreamEvent = StreamLine | { readonly t: 'reconnect'; readonly reason: string; readonly attempt: number };

/** Options of one stream. */
export interface StreamOptions {
  /** Start after this cursor (a cursor of an earlier stream of the same script). */
  readonly cursor?: string;
  /** Stops the stream; the iterator then ends. */
  readonly signal?: AbortSignal;
  /** Wait before reconnecting, ms (default 1000). */
  readonly retryMs?: number;
}

/** The rows of a table as objects keyed by column name (cells as docs/api.md encodes them). */
export function rowsOf(table: ResultTable): Record<string, Cell>[] {
  const out: Record<string, Cell>[] = [];
  for (let r = 0; r < table.rowCount; r++) {
    const row: Record<string, Cell> = {};
    table.columns.forEach((c, j) => (row[c.name] = table.data[j]![r]!));
    out.push(row);
  }
  return out;
}

/** A client of one engine or broker. */
export class WispClient {
  constructor(private readonly options: ClientOptions) {}

  private headers(): Record<string, string> {
    const h: Record<string, string> = { 'content-type': 'application/json' };
    if (this.options.token !== undefined) h['authorization'] = `Bearer ${this.options.token}`;
    return h;
  }

  private async post(body: QueryRequest, signal?: AbortSignal): Promise<Response> {
    const url = new URL('/api/v1/query', this.options.url).toString();
    try {
      return await fetch(url, { method: 'POST', headers: this.headers(), body: JSON.stringify(body), ...(signal ? { signal } : {}) });
    } catch (e) {
      if (signal?.aborted) throw e;
      throw new Error(`cannot reach ${this.options.url}: ${(e as Error & { cause?: Error }).cause?.message ?? (e as Error).message}`);
    }
  }

  private static async failure(res: Response): Promise<WispError | Error> {
    const text = await res.text();
    try {
      const err = (JSON.parse(text) as ErrorResponse).error;
      if (err?.code) return new WispError(res.status, err);
    } catch {
      // Not JSON: said as it is below.
    }
    return new Error(`the API answered ${res.status}: ${text.slice(0, 200)}`);
  }

  /** Runs a script once: the answer's tables, stats and warnings. Throws WispError for an error answer. */
  async query(req: Omit<QueryRequest, 'stream' | 'cursor'>, signal?: AbortSignal): Promise<QueryResponse> {
    const res = await this.post(req, signal);
    if (!res.ok) throw await WispClient.failure(res);
    return (await res.json()) as QueryResponse;
  }

  /** The physical plan the script would run (`explain: true`); nothing runs. */
  async explain(req: Omit<QueryRequest, 'stream' | 'cursor' | 'explain'>, signal?: AbortSignal): Promise<ExplainResponse> {
    const res = await this.post({ ...req, explain: true }, signal);
    if (!res.ok) throw await WispClient.failure(res);
    return (await res.json()) as ExplainResponse;
  }

  /**
   * Runs a script as a stream (`stream: true`) until `signal` aborts. When the connection drops
   * or the server ends the stream, it reconnects with the last cursor it received and yields a
   * `reconnect` event; an error answer (a wrong script, a bad cursor) or an `error` line
   * throws WispError.
   */
  async *stream(req: Omit<QueryRequest, 'stream' | 'cursor'>, options: StreamOptions = {}): AsyncGenerator<StreamEvent, void, undefined> {
    let cursor = options.cursor;
    const signal = options.signal;
    for (let attempt = 0; !signal?.aborted; attempt++) {
      let reason: string;
      try {
        const res = await this.post({ ...req, stream: true, ...(cursor !== undefined ? { cursor } : {}) }, signal);
        if (!res.ok) {
          const failure = await WispClient.failure(res);
          if (failure instanceof WispError && res.status < 500) throw failure;
          reason = failure.message;
        } else {
          for await (const line of ndjson(res)) {
            if (line.t === 'error') throw new WispError(200, line.error);
            if ('cursor' in line) cursor = line.cursor;
            attempt = 0;
            yield line;
          }
          reason = 'the server ended the stream';
        }
      } catch (e) {
        if (signal?.aborted) return;
        if (e instanceof WispError) throw e;
        reason = (e as Error).message;
      }
      yield { t: 'reconnect', reason, attempt: attempt + 1 };
      await new Promise((r) => setTimeout(r, options.retryMs ?? 1000));
    }
  }
}

/** The JSON lines of a response body, as they arrive. */
async function* ndjson(res: Response): AsyncGenerator<StreamLine> {
  if (!res.body) return;
  const decoder = new TextDecoder();
  let rest = '';
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    const parts = (rest + decoder.decode(chunk, { stream: true })).split('\n');
    rest = parts.pop()!;
    for (const p of parts) if (p !== '') yield JSON.parse(p) as StreamLine;
  }
}
