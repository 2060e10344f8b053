import type { FastifyInstance } from 'fastify';
import { ApiMetrics } from '../api/metrics.js';
import { buildApi } from '../api/server.js';
import { BrokerBackend, DEFAULT_ENGINE_TIMEOUT_MS } from '../broker/backend.js';
import { KubernetesEngines, parseEngineUrls, parseServiceRef, StaticEngines, type EngineDiscovery } from '../broker/engines.js';
import { parseDurationNs } from '../pxl/functions/time.js';
import { parseCommandLine } from './args.js';
import { closeServer, listenUrl, parseListen, readToken, warnIfExposed } from './engine.js';

const BROKER_USAGE = `usage: wisp broker [--listen HOST:PORT] [--token-file F] [--engine-token-file F]
                   (--engines URL[,URL...] | --kubernetes-service NAMESPACE/NAME) [--engine-timeout DURATION]
  Serves the engine API (docs/api.md) over many engines: each script is split, the engines run
  its leaf pipelines and partial aggregates, the broker merges them (docs/broker.md).
  --listen              where the API listens (default 127.0.0.1:7071; port 0 picks one)
  --token-file          require 'Authorization: Bearer <token>' on /api/* (token = the file's content)
  --engine-token-file   bearer token the broker sends to the engines
  --engines             engine base URLs, comma-separated (e.g. http://10.0.0.7:7070)
  --kubernetes-service  the engines' headless Service: engines are its EndpointSlices' ready
                        addresses, on the port named 'api' (else the first port)
  --engine-timeout      how long one engine may take to answer (default 10s); a slower engine is
                        left out of the result with a warning`;

/** A running broker and how to stop it. */
export interface RunningBroker {
  readonly app: FastifyInstance;
  readonly backend: BrokerBackend;
  readonly url: string;
  stop(): Promise<void>;
}

/** Starts the broker API over a discovery; used by `wisp broker` and the tests. */
export async function startBroker(opts: { listen: string; engines: EngineDiscovery; token?: string; engineToken?: string; engineTimeoutMs?: number; maxRows?: number }): Promise<RunningBroker> {
  const { host, port } = parseListen(opts.listen);
  const timeout = opts.engineTimeoutMs ?? DEFAULT_ENGINE_TIMEOUT_MS;
  const backend = new BrokerBackend({
    engines: opts.engines,
    engineTimeoutMs: timeout,
    ...(opts.engineToken !== undefined ? { engineToken: opts.engineToken } : {}),
    ...(opts.maxRows !== undefined ? { maxRows: opts.maxRows } : {}),
  });
  const app = buildApi({
    backend,
    metrics: new ApiMetrics(),
    ...(opts.token !== undefined ? { token: opts.token } : {}),
    // The broker's own limit leaves room for the slowest engine plus the merge.
    limits: { queryTimeoutMs: Math.max(30_000, timeout * 2) },
  });
  try {
    await app.listen({ host, port });
  } catch (e) {
    await opts.engines.close();
    throw new Error(`cannot listen on ${opts.listen}: ${(e as Error).message}`);
  }
  warnIfExposed('broker', opts.listen, host, opts.token);
  backend.start();
  return {
    app,
    backend,
    url: listenUrl(app, host, port),
    async stop() {
      try {
        await closeServer(app);
      } finally {
        await backend.close();
      }
    },
  };
}

/** Parses `--engine-timeout` (PxL duration text: 500ms, 10s, 1m). */
function parseTimeout(text: string): number {
  const ns = parseDurationNs(text);
  if (ns === undefined || ns <= 0n) throw new Error(`--engine-timeout wants a positive duration such as 500ms, 10s or 1m (got '${text}')`);
  return Math.max(1, Math.round(Number(ns) / 1e6));
}

/** `wisp broker`. */
export async function runBroker(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseCommandLine({
      args: argv,
      options: {
        listen: { type: 'string', default: '127.0.0.1:7071' },
        'token-file': { type: 'string' },
        'engine-token-file': { type: 'string' },
        engines: { type: 'string' },
        'kubernetes-service': { type: 'string' },
        'engine-timeout': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    console.error(`wisp broker: ${(e as Error).message}\n${BROKER_USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(BROKER_USAGE);
    return 0;
  }
  if ((values.engines === undefined) === (values['kubernetes-service'] === undefined)) {
    console.error(`wisp broker: give exactly one of --engines and --kubernetes-service\n${BROKER_USAGE}`);
    return 2;
  }
  let engines: EngineDiscovery;
  let engineTimeoutMs: number | undefined;
  try {
    if (values['engine-timeout'] !== undefined) engineTimeoutMs = parseTimeout(values['engine-timeout']);
    engines = values.engines !== undefined ? new StaticEngines(parseEngineUrls(values.engines)) : await KubernetesEngines.start(parseServiceRef(values['kubernetes-service']!));
  } catch (e) {
    console.error(`wisp broker: ${(e as Error).message}`);
    return 2;
  }
  const broker = await startBroker({
    listen: values.listen,
    engines,
    ...(values['token-file'] !== undefined ? { token: await readToken(values['token-file']) } : {}),
    ...(values['engine-token-file'] !== undefined ? { engineToken: await readToken(values['engine-token-file']) } : {}),
    ...(engineTimeoutMs !== undefined ? { engineTimeoutMs } : {}),
  });
  console.log(`wisp broker: API on ${broker.url} over ${engines.describe()}`);
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await broker.stop();
  return 0;
}
