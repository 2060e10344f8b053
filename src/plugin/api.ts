import type { ApiDiagnostic, QueryRequest, QueryResponse, SchemaResponse, ScriptFunction, StreamLine } from './types.js';

/** The `path` of the data-proxy route in plugin.json; Grafana forwards `<url>/engine/*`. */
const ROUTE_PATH = 'engine';

/** An HTTP answer, whatever its status. */
export interface HttpResult {
  status: number;
  data: unknown;
}

/** One HTTP request to the engine. */
export interface HttpRequest {
  method: 'GET' | 'POST';
  url: string;
  data?: unknown;
  /**
   * Grafana's request anchor: a newer request with the same id cancels this one in flight
   * (BackendSrv's own rule), so a panel's superseded query does not run on.
   */
  requestId?: string;
  /** Aborting cancels the request; the engine sees its client go away and stops the query. */
  signal?: AbortSignal;
}

/** Options of one query request. */
export type QueryOptions = Pick<HttpRequest, 'requestId' | 'signal'>;

/**
 * Sends one request. Resolves for every HTTP status (the caller decides what a 401 means) and
 * rejects only when no HTTP answer came at all, or the request was cancelled (QueryCancelled).
 */
export type Transport = (request: HttpRequest) => Promise<HttpResult>;

/**
 * Opens a streamed query (`POST url` with `body`): resolves with the response as soon as its
 * headers came, its body read as it arrives. Aborting `signal` closes the connection. Grafana's
 * BackendSrv buffers whole answers, so the datasource gives the browser's own `fetch` here.
 */
export type StreamOpener = (url: string, body: QueryRequest, signal: AbortSignal) => Promise<Response>;

/** What a stream yields: the engine's lines, and a note each time the connection was made again. */
export type StreamEvent = StreamLine | { t: 'reconnect'; reason: string; attempt: number };

/** A request that was cancelled before its answer: superseded, or its caller unsubscribed. */
export class QueryCancelled extends Error {
  constructor() {
    super('the query was cancelled');
    this.name = 'QueryCancelled';
  }
}

/**
 * The engine's base URL as the browser sees it: Grafana's data proxy for this datasource
 * (`instanceSettings.url`, e.g. `/api/datasources/proxy/uid/abc`) plus the route path, so the
 * route's Authorization header is added server-side and the token never reaches the browser.
 */
export function engineBaseUrl(instanceUrl: string | undefined): string {
  if (!instanceUrl) {
    throw new Error('the datasource has no proxy URL; its access mode must be "proxy" (server)');
  }
  return `${instanceUrl.replace(/\/+$/, '')}/${ROUTE_PATH}`;
}

/** An engine answer that was not a success; carries the engine's diagnostic when it sent one. */
export class EngineError extends Error {
  readonly status: number;
  readonly diagnostic?: ApiDiagnostic;

  constructor(status: number, message: string, diagnostic?: ApiDiagnostic) {
    super(message);
    this.name = 'EngineError';
    this.status = status;
    this.diagnostic = diagnostic;
  }
}

/** The engine's HTTP API (docs/api.md) over a transport; no query logic lives here. */
export class EngineApi {
  constructor(
    readonly baseUrl: string,
    private readonly transport: Transport,
    private readonly opener?: StreamOpener
  ) {}

  /** A raw request; `path` starts with `/`. */
  request(method: HttpRequest['method'], path: string, data?: unknown, opts: QueryOptions = {}): Promise<HttpResult> {
    return this.transport({ method, url: this.baseUrl + path, data, ...opts });
  }

  /** Runs a script; throws EngineError with the diagnostic on 4xx/5xx, QueryCancelled when cancelled. */
  async query(body: QueryRequest, opts: QueryOptions = {}): Promise<QueryResponse> {
    const res = await this.request('POST', '/api/v1/query', body, opts);
    if (res.status !== 200) {
      throw toEngineError(res);
    }
    if (!isQueryResponse(res.data)) {
      throw new EngineError(res.status, 'the engine answered the query with a body that has no "tables" list');
    }
    return res.data;
  }

  /**
   * Runs a script as a stream until `signal` aborts (then it ends quietly). A dropped
   * connection, an answer from a proxy that lost the engine (5xx) or a stream the engine ended
   * is opened again with the last cursor received, after `retryMs` × attempt (at most 5×), and
   * yields a `reconnect` event; so each row comes once while the engine still stores it. A
   * refused script (4xx) or an `error` line throws EngineError with the engine's diagnostic.
   */
  async *stream(body: QueryRequest, signal: AbortSignal, retryMs = 1000): AsyncGenerator<StreamEvent, void, undefined> {
    if (!this.opener) {
      throw new Error('this datasource cannot stream: it has no way to read an answer as it arrives');
    }
    let cursor: string | undefined;
    for (let attempt = 1; !signal.aborted; attempt++) {
      let reason: string;
      try {
        const res = await this.opener(this.baseUrl + '/api/v1/query', { ...body, stream: true, ...(cursor ? { cursor } : {}) }, signal);
        if (res.status !== 200) {
          const text = await res.text();
          const error = toEngineError({ status: res.status, data: parseJson(text) ?? text });
          if (res.status < 500) {
            throw error;
          }
          reason = error.message;
        } else {
          for await (const line of jsonLines(res)) {
            if (line.t === 'error') {
              throw new EngineError(200, line.error.message, line.error);
            }
            if ('cursor' in line) {
              cursor = line.cursor;
              attempt = 1;
            }
            yield line;
          }
          reason = 'the engine ended the stream';
        }
      } catch (e) {
        if (signal.aborted) {
          return;
        }
        if (e instanceof EngineError) {
          throw e;
        }
        reason = e instanceof Error ? e.message : String(e);
      }
      yield { t: 'reconnect', reason, attempt };
      await sleep(retryMs * Math.min(attempt, 5), signal);
    }
  }

  /** Tables, columns, functions and macros for completion. */
  async schema(): Promise<SchemaResponse> {
    const res = await this.request('GET', '/api/v1/schema');
    if (res.status !== 200) {
      throw toEngineError(res);
    }
    return res.data as SchemaResponse;
  }

  /** The functions a script defines, for the editor's function picker; EngineError when it does not parse. */
  async functions(script: string): Promise<ScriptFunction[]> {
    const res = await this.request('POST', '/api/v1/functions', { script });
    if (res.status !== 200) {
      throw toEngineError(res);
    }
    const fns = (res.data as { functions?: unknown }).functions;
    if (!Array.isArray(fns)) {
      throw new EngineError(res.status, 'the engine answered /api/v1/functions with a body that has no "functions" list');
    }
    return fns as ScriptFunction[];
  }
}

/** Builds the error for a failed answer, preferring the engine's own diagnostic. */
function toEngineError(res: HttpResult): EngineError {
  const diagnostic = errorDiagnostic(res.data);
  if (diagnostic) {
    return new EngineError(res.status, diagnostic.message, diagnostic);
  }
  const text = messageOf(res.data);
  return new EngineError(res.status, `engine answered HTTP ${res.status}${text ? `: ${text}` : ''}`);
}

function errorDiagnostic(body: unknown): ApiDiagnostic | undefined {
  if (typeof body !== 'object' || body === null || !('error' in body)) {
    return undefined;
  }
  const error = (body as { error: unknown }).error;
  if (typeof error !== 'object' || error === null) {
    return undefined;
  }
  const e = error as Partial<ApiDiagnostic>;
  if (typeof e.message !== 'string') {
    return undefined;
  }
  return {
    severity: e.severity ?? 'error',
    code: typeof e.code === 'string' ? e.code : 'ENGINE_ERROR',
    message: e.message,
    span: e.span,
    hints: Array.isArray(e.hints) ? e.hints : [],
  };
}

function messageOf(body: unknown): string {
  if (typeof body === 'string') {
    return body.slice(0, 200);
  }
  if (typeof body === 'object' && body !== null && 'message' in body) {
    const m = (body as { message: unknown }).message;
    return typeof m === 'string' ? m : '';
  }
  return '';
}

function isQueryResponse(body: unknown): body is QueryResponse {
  return typeof body === 'object' && body !== null && Array.isArray((body as { tables?: unknown }).tables);
}

/** The NDJSON lines of a body as they arrive; a line that is not JSON throws, naming it. */
async function* jsonLines(res: Response): AsyncGenerator<StreamLine> {
  if (!res.body) {
    throw new Error('the stream has no body');
  }
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let pending = '';
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) {
        return;
      }
      const lines = (pending + decoder.decode(value, { stream: true })).split('\n');
      pending = lines.pop() ?? '';
      for (const text of lines) {
        if (text.trim() === '') {
          continue;
        }
        const line = parseJson(text);
        if (typeof line !== 'object' || line === null || typeof (line as { t?: unknown }).t !== 'string') {
          throw new Error(`the stream sent a line that is not a stream line: ${text.slice(0, 100)}`);
        }
        yield line as StreamLine;
      }
    }
  } finally {
    // Closes the connection when the reader stops early; harmless once the body has ended.
    void reader.cancel().catch(() => undefined);
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** Waits `ms`, or less when `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
