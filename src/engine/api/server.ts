import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Diagnostic } from '../pxl/diagnostic.js';
import { PxlError } from '../pxl/diagnostic.js';
import { ADHOC_OPERATORS } from '../pxl/plan/adhoc.js';
import { Admission } from './admission.js';
import { bearerMatches } from './auth.js';
import { functionsOf } from '../pxl/compile.js';
import type { ErrorResponse, ExplainResponse, FunctionsResponse, NodeInfo, QueryRequest, QueryResponse, ReadyResponse, SchemaResponse } from './contract.js';
import type { ApiMetrics } from './metrics.js';
import { resolveFrame, type QueryFrame } from './options.js';
import { DEFAULT_STREAM_LIMITS, serveStream, type LiveStream, type StreamLimits } from './stream.js';

/**
 * What answers queries behind the API: the engine over its own store, or (later) the broker
 * over many engines. The HTTP layer owns auth, limits, timeouts and error shapes.
 */
export interface QueryBackend {
  query(req: QueryRequest, frame: QueryFrame, signal: AbortSignal): Promise<QueryResponse>;
  /** The physical plan `query` would run for the request (`explain: true`); nothing runs. */
  explain(req: QueryRequest, frame: QueryFrame): ExplainResponse;
  schema(): SchemaResponse;
  ready(): ReadyResponse;
  /**
   * Engines only (`POST /api/v1/partial`): checks a broker's plan fragments, throwing PxlError
   * for a bad body before anything is sent, then yields the NDJSON lines of the answer.
   */
  partial?(body: unknown, signal: AbortSignal): AsyncIterable<string>;
  /** Engines only (`GET /api/v1/node`): what this node holds, for the broker's pruning. */
  node?(): NodeInfo;
  /** `stream: true`: compiles the script (throwing PxlError for a bad one) and returns the stream to serve. */
  stream?(req: QueryRequest, frame: QueryFrame): LiveStream;
}

export interface ApiLimits {
  /** Largest accepted request body, bytes. */
  readonly maxBodyBytes: number;
  /** Largest accepted script, bytes (UTF-8). */
  readonly maxScriptBytes: number;
  /** Wall time after which a query is cancelled. */
  readonly queryTimeoutMs: number;
  /** Time a client has to send a request's head (request line and headers); then 408 and close. */
  readonly headersTimeoutMs: number;
  /** Time a client has to send a whole request, head and body; then 408 and close. */
  readonly requestTimeoutMs: number;
  /** How long a kept-alive connection may sit idle between requests before it is closed. */
  readonly keepAliveTimeoutMs: number;
  /**
   * How long a socket may see no traffic either way before it is destroyed, whatever state it
   * is in (default: the query limit + 10 s, so a query that runs to its limit is still answered).
   */
  readonly connectionTimeoutMs?: number;
  /** Queries (and partial queries) run at once: each holds up to a result's worth of memory. */
  readonly maxConcurrentQueries: number;
  /** Queries that may wait for a turn (their time limit running); past that, 429. */
  readonly maxQueuedQueries: number;
  /** Streamed answers (`stream: true`): how many at once, and each one's buffer. */
  readonly stream: StreamLimits;
}

const DEFAULT_LIMITS: ApiLimits = {
  maxBodyBytes: 1 << 20,
  maxScriptBytes: 256 << 10,
  queryTimeoutMs: 30_000,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
  maxConcurrentQueries: 4,
  maxQueuedQueries: 64,
  stream: DEFAULT_STREAM_LIMITS,
};

export interface ApiOptions {
  readonly backend: QueryBackend;
  readonly metrics: ApiMetrics;
  /** When set, /api/* requires `Authorization: Bearer <token>`. */
  readonly token?: string;
  readonly limits?: Partial<ApiLimits>;
  readonly now?: () => number;
}

const queryBodySchema = {
  type: 'object',
  required: ['script'],
  additionalProperties: false,
  properties: {
    script: { type: 'string' },
    range: {
      type: 'object',
      required: ['from', 'to'],
      additionalProperties: false,
      properties: { from: { type: 'number' }, to: { type: 'number' } },
    },
    intervalMs: { type: 'number', exclusiveMinimum: 0 },
    maxDataPoints: { type: 'integer', minimum: 1 },
    explain: { type: 'boolean' },
    stream: { type: 'boolean' },
    cursor: { type: 'string', maxLength: 65536 },
    variables: {
      type: 'object',
      additionalProperties: { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] },
    },
    function: {
      type: 'object',
      required: ['name'],
      additionalProperties: false,
      properties: {
        name: { type: 'string', minLength: 1, maxLength: 256 },
        args: { type: 'object', maxProperties: 256, additionalProperties: { type: 'string' } },
      },
    },
    columns: { type: 'array', maxItems: 1024, items: { type: 'string', minLength: 1, maxLength: 256 } },
    adhocFilters: {
      type: 'array',
      maxItems: 64,
      items: {
        type: 'object',
        required: ['key', 'operator'],
        additionalProperties: false,
        properties: {
          key: { type: 'string', minLength: 1, maxLength: 256 },
          operator: { enum: ADHOC_OPERATORS },
          value: { type: 'string' },
          values: { type: 'array', minItems: 1, maxItems: 1000, items: { type: 'string' } },
        },
      },
    },
  },
} as const;

function errorBody(code: string, message: string, extra: Partial<Diagnostic> = {}): ErrorResponse {
  return { error: { severity: 'error', code, message, hints: [], ...extra } };
}

function statusFor(code: string): number {
  switch (code) {
    case 'QUERY_TIMEOUT':
      return 504;
    case 'SCRIPT_TOO_LARGE':
      return 413;
    case 'TOO_MANY_QUERIES':
      return 429;
    case 'BROKER_NO_ENGINES':
      return 503;
    default:
      return 400;
  }
}

function rejectOnAbort(signal: AbortSignal): Promise<never> {
  return new Promise((_resolve, reject) => {
    signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}

/** A client error the HTTP parser raised before any route was involved, in the API's error shape. */
function clientErrorAnswer(err: NodeJS.ErrnoException): { status: number; body: ErrorResponse } {
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    return { status: 408, body: errorBody('REQUEST_TIMEOUT', 'the request did not arrive in time (headers or body too slow) and the connection was closed') };
  }
  if (err.code === 'HPE_HEADER_OVERFLOW') return { status: 431, body: errorBody('HEADERS_TOO_LARGE', 'the request head is over the server limit (16 KiB)') };
  return { status: 400, body: errorBody('BAD_REQUEST', `malformed HTTP request (${err.code ?? err.message})`) };
}

/** The onRequest hook of the /api context: 401 unless the request carries the bearer token. */
function requireToken(token: string) {
  return async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (bearerMatches(req.headers.authorization, token)) return;
    await reply
      .code(401)
      .header('WWW-Authenticate', 'Bearer realm="wisp"')
      .send(errorBody('UNAUTHORIZED', 'missing or wrong bearer token', { hints: ['send Authorization: Bearer <token>'] }));
  };
}

/** Builds the engine's HTTP API (docs/api.md). The caller listens. */
export function buildApi(opts: ApiOptions): FastifyInstance {
  const limits: ApiLimits = { ...DEFAULT_LIMITS, ...opts.limits };
  if (limits.headersTimeoutMs > limits.requestTimeoutMs) {
    throw new Error(`headersTimeoutMs (${limits.headersTimeoutMs}) must not exceed requestTimeoutMs (${limits.requestTimeoutMs})`);
  }
  const now = opts.now ?? Date.now;
  const app = Fastify({
    bodyLimit: limits.maxBodyBytes,
    // Fastify's ajv would otherwise coerce and strip; the contract wants wrong bodies rejected.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    connectionTimeout: limits.connectionTimeoutMs ?? limits.queryTimeoutMs + 10_000,
    // Node enforces the head and request timeouts on a periodic sweep (30 s by default), which
    // would let a slow client live up to twice its limit.
    http: {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(limits.headersTimeoutMs / 4))),
    },
    // The router's own errors (a path it cannot decode), before any route or hook.
    frameworkErrors(err, _req, reply) {
      void (reply as FastifyReply).code(400).send(errorBody('BAD_REQUEST', `the request URL is not valid: ${err.message}`));
    },
    clientErrorHandler(err, socket) {
      if (err.code === 'ECONNRESET' || socket.destroyed) return;
      if (socket.writable) {
        const { status, body } = clientErrorAnswer(err);
        const text = JSON.stringify(body);
        socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`);
      }
      socket.destroy();
    },
  });

  // Node answers an `Expect:` it does not know with a bare 417 unless someone listens.
  app.server.on('checkExpectation', (_req: IncomingMessage, res: ServerResponse) => {
    const text = JSON.stringify(errorBody('EXPECTATION_FAILED', 'the only Expect this API honours is 100-continue'));
    res.writeHead(417, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), connection: 'close' }).end(text);
  });

  app.setErrorHandler((err: FastifyError, _req, reply: FastifyReply) => {
    if (err.validation) {
      return reply.code(400).send(errorBody('BAD_REQUEST', `invalid request body: ${err.message}`));
    }
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return reply.code(413).send(errorBody('BODY_TOO_LARGE', `request body is over the ${limits.maxBodyBytes}-byte limit`));
    }
    if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
      return reply.code(415).send(errorBody('BAD_REQUEST', 'send the body as application/json'));
    }
    if (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500) {
      return reply.code(err.statusCode).send(errorBody('BAD_REQUEST', `malformed request: ${err.message}`));
    }
    app.log.error(err);
    return reply.code(500).send(errorBody('INTERNAL', `internal error: ${err.message}`));
  });
  app.setNotFoundHandler((req, reply) =>
    reply.code(404).send(errorBody('NOT_FOUND', `no route ${req.method} ${req.url.slice(0, 200)}`, { hints: ['the routes are listed in docs/api.md'] })),
  );

  // The /api routes live in their own plugin context, which owns the auth hook: a request is
  // authenticated because of the handler it reaches, however its path was spelled
  // (`/%61pi/v1/query` routes to the same handler as `/api/v1/query`).
  app.register(async (api) => {
    if (opts.token !== undefined) api.addHook('onRequest', requireToken(opts.token));
    registerApiRoutes(api, opts, limits, now);
  });

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    const body = opts.backend.ready();
    return reply.code(body.ready ? 200 : 503).send(body);
  });
  app.get('/metrics', async (_req, reply) => {
    const text = await opts.metrics.registry.metrics();
    return reply.header('Content-Type', opts.metrics.registry.contentType).send(text);
  });
  return app;
}

/** A turn to run a query, or the PxlError saying there is none to wait for. */
async function turn(admission: Admission, signal: AbortSignal): Promise<() => void> {
  const entered = admission.enter(signal);
  if (entered) return entered;
  throw new PxlError('TOO_MANY_QUERIES', `${admission.maxRunning} queries are running and ${admission.maxWaiting} waiting`, undefined, ['retry in a moment; dashboards with many panels can also refresh less often']);
}

/** The `/api/v1/*` routes; registered only inside the authenticated context. */
function registerApiRoutes(app: FastifyInstance, opts: ApiOptions, limits: ApiLimits, now: () => number): void {
  const admission = new Admission(limits.maxConcurrentQueries, limits.maxQueuedQueries);
  // Streams open per presented token; behind the auth hook every accepted token is the one token.
  const openStreams = new Map<string, number>();
  const startStream = (req: FastifyRequest<{ Body: QueryRequest }>, reply: FastifyReply): FastifyReply => {
    const stream = opts.backend.stream?.bind(opts.backend);
    if (!stream) return reply.code(400).send(errorBody('STREAM_UNSUPPORTED', 'this server does not stream answers'));
    const key = req.headers.authorization ?? '';
    const open = openStreams.get(key) ?? 0;
    if (open >= limits.stream.maxStreams) {
      return reply.code(429).send(errorBody('TOO_MANY_STREAMS', `${open} streams are open with this token; the limit is ${limits.stream.maxStreams}`, { hints: ['close a stream you no longer read'] }));
    }
    let live: LiveStream;
    try {
      live = stream(req.body, resolveFrame(req.body, now()));
    } catch (e) {
      if (e instanceof PxlError) return reply.code(statusFor(e.diagnostic.code)).send({ error: e.diagnostic } satisfies ErrorResponse);
      throw e;
    }
    openStreams.set(key, open + 1);
    const controller = new AbortController();
    reply.raw.once('close', () => controller.abort());
    reply.hijack();
    reply.raw.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' });
    void serveStream(reply.raw, live, limits.stream, controller.signal)
      .catch((e: unknown) => {
        app.log.error(e);
        reply.raw.destroy();
      })
      .finally(() => {
        const left = (openStreams.get(key) ?? 1) - 1;
        if (left === 0) openStreams.delete(key);
        else openStreams.set(key, left);
      });
    return reply;
  };

  app.post<{ Body: QueryRequest }>('/api/v1/query', { schema: { body: queryBodySchema } }, async (req, reply) => {
    const started = performance.now();
    const scriptBytes = Buffer.byteLength(req.body.script, 'utf8');
    if (scriptBytes > limits.maxScriptBytes) {
      return reply.code(413).send(errorBody('SCRIPT_TOO_LARGE', `script is ${scriptBytes} bytes; the limit is ${limits.maxScriptBytes}`));
    }
    if (req.body.stream === true && req.body.explain !== true) return startStream(req, reply);
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new PxlError('QUERY_TIMEOUT', `query ran past the ${limits.queryTimeoutMs} ms limit and was cancelled`)), limits.queryTimeoutMs);
    // The response closing before it was written means the client hung up: stop the work.
    const onClose = (): void => {
      if (!reply.raw.writableFinished) controller.abort(new PxlError('QUERY_CANCELLED', 'client went away'));
    };
    reply.raw.once('close', onClose);
    let release: (() => void) | undefined;
    try {
      const frame = resolveFrame(req.body, now());
      release = await turn(admission, controller.signal);
      // Raced against the signal so a backend that ignores cancellation still cannot hold the reply.
      const result = req.body.explain
        ? opts.backend.explain(req.body, frame)
        : await Promise.race([opts.backend.query(req.body, frame, controller.signal), rejectOnAbort(controller.signal)]);
      opts.metrics.observeQuery('ok', (performance.now() - started) / 1000);
      return reply.send(result);
    } catch (e) {
      const cause = controller.signal.aborted && !(e instanceof PxlError) ? controller.signal.reason : e;
      if (cause instanceof PxlError) {
        const code = cause.diagnostic.code;
        const outcome = code === 'QUERY_TIMEOUT' ? 'timeout' : code === 'QUERY_CANCELLED' ? 'cancelled' : 'error';
        opts.metrics.observeQuery(outcome, (performance.now() - started) / 1000);
        return reply.code(statusFor(cause.diagnostic.code)).send({ error: cause.diagnostic } satisfies ErrorResponse);
      }
      opts.metrics.observeQuery('error', (performance.now() - started) / 1000);
      throw e;
    } finally {
      release?.();
      clearTimeout(timer);
      reply.raw.off('close', onClose);
    }
  });

  const partial = opts.backend.partial?.bind(opts.backend);
  if (partial) {
    const partialBodySchema = {
      type: 'object',
      required: ['nowNs', 'fragments'],
      properties: { nowNs: { type: 'string' }, fragments: { type: 'array' } },
    } as const;
    app.post('/api/v1/partial', { schema: { body: partialBodySchema } }, async (req, reply) => {
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(new PxlError('QUERY_TIMEOUT', `partial query ran past the ${limits.queryTimeoutMs} ms limit and was cancelled`)), limits.queryTimeoutMs);
      let release: (() => void) | undefined;
      const onClose = (): void => {
        if (!reply.raw.writableFinished) controller.abort(new PxlError('QUERY_CANCELLED', 'broker went away'));
        // A stream that never started never runs its `finally`: its turn must go back here.
        done();
      };
      reply.raw.once('close', onClose);
      const done = (): void => {
        release?.();
        clearTimeout(timer);
        reply.raw.off('close', onClose);
      };
      let lines: AsyncIterable<string>;
      try {
        release = await turn(admission, controller.signal);
        lines = partial(req.body, controller.signal);
      } catch (e) {
        done();
        if (e instanceof PxlError) return reply.code(statusFor(e.diagnostic.code)).send({ error: e.diagnostic } satisfies ErrorResponse);
        throw e;
      }
      async function* guarded(): AsyncGenerator<string> {
        try {
          yield* lines;
        } finally {
          done();
        }
      }
      return reply.header('Content-Type', 'application/x-ndjson').send(Readable.from(guarded()));
    });
  }
  const node = opts.backend.node?.bind(opts.backend);
  if (node) app.get('/api/v1/node', async () => node());

  app.get('/api/v1/schema', async () => opts.backend.schema());

  // The editor asks what a script defines as it is typed: parsing only, no turn needed.
  const functionsBodySchema = { type: 'object', required: ['script'], additionalProperties: false, properties: { script: { type: 'string' } } } as const;
  app.post<{ Body: { script: string } }>('/api/v1/functions', { schema: { body: functionsBodySchema } }, async (req, reply) => {
    const scriptBytes = Buffer.byteLength(req.body.script, 'utf8');
    if (scriptBytes > limits.maxScriptBytes) {
      return reply.code(413).send(errorBody('SCRIPT_TOO_LARGE', `script is ${scriptBytes} bytes; the limit is ${limits.maxScriptBytes}`));
    }
    try {
      return reply.send({ functions: functionsOf(req.body.script) } satisfies FunctionsResponse);
    } catch (e) {
      if (e instanceof PxlError) return reply.code(400).send({ error: e.diagnostic } satisfies ErrorResponse);
      throw e;
    }
  });
}
