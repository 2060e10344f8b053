import { readFile } from 'node:fs/promises';
import { isIPv4, isIPv6 } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { Agent } from '../agent.js';
import { LocalBackend } from '../api/local.js';
import { ApiMetrics } from '../api/metrics.js';
import { RedMetrics } from '../api/red.js';
import { buildApi } from '../api/server.js';
import { cgroup2Mount } from '../capture/cgroup.js';
import { loadKubernetesMetadata, resolveNodeName } from '../meta/k8s/load.js';
import { parseCommandLine, UsageError } from './args.js';
import { CAPTURE_OPTIONS, CAPTURE_USAGE, agentCapture, captureSettings, redactionWarning, type CaptureSettings } from './capture-flags.js';

/** `wisp engine --help`; the --cgroup example is under this host's cgroup2 mount, wherever that is. */
function engineUsage(): string {
  const mount = cgroup2Mount();
  const cgroupExample = mount !== undefined ? `e.g. ${mount}/wisp-node-a: cgroup2 is mounted at ${mount} here` : 'no cgroup2 filesystem is mounted here';
  return `usage: wisp engine [--listen HOST:PORT] [--token-file F] [--budget-mib N] [--body-bytes N] [--cgroup PATH]
                   [--redact defaults|listed|off] [--redact-header NAME]... [--redact-query-param NAME]...
                   [--kubernetes auto|in-cluster|KUBECONFIG] [--node-name NAME]
  Captures HTTP on this node and serves the query API (docs/api.md).
  --listen      where the API listens (default 127.0.0.1:7070; 0.0.0.0:7070 in a cluster; port 0 picks one)
  --token-file  require 'Authorization: Bearer <token>' on /api/* (token = the file's content)
  --budget-mib  memory budget of http_events (default 256); the oldest rows go first
${CAPTURE_USAGE}
  --cgroup      capture only processes in this cgroup v2 directory or below it
                (${cgroupExample}); default: every process on the host
  --kubernetes  fill pod/service/namespace/node metadata from the API server (docs/metadata.md):
                in-cluster = the pod's service account; auto = in-cluster in a pod, else
                $KUBECONFIG or ~/.kube/config; anything else is a kubeconfig path.
                Without it the Kubernetes keys are ''. An unreachable API never stops capture.
  --node-name   this node's name, to watch only its pods (default $NODE_NAME, else the host name)
  SIGINT/SIGTERM stop capture, give requests in flight 2 s, and exit 0.
  Needs root (or CAP_BPF + CAP_PERFMON + CAP_SYS_RESOURCE).`;
}

/** Splits HOST:PORT (IPv6 as [::1]:PORT). */
export function parseListen(text: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(text);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new Error(`--listen wants HOST:PORT, e.g. 127.0.0.1:7070 or [::]:7070 (got '${text}')`);
  return { host: m[1] ?? (m[2] || '0.0.0.0'), port };
}

/** The URL a listening API is reached at: the port it bound (for port 0), a wildcard host as loopback. */
export function listenUrl(app: FastifyInstance, host: string, port: number): string {
  const addr = app.server.address();
  const bound = typeof addr === 'object' && addr ? addr.port : port;
  const shown = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
  return `http://${shown}:${bound}`;
}

/** True when only this machine can reach `host` (127.0.0.0/8, ::1, localhost). */
function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIPv4(host)) return host.startsWith('127.');
  if (isIPv6(host)) {
    const h = new URL(`http://[${host}]`).hostname;
    return h === '[::1]' || /^\[::ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}\]$/.test(h);
  }
  return false;
}

/**
 * Says on stderr, in one line, that an API reachable beyond this machine answers anyone: the
 * captured traffic (headers, bodies) is then readable by whoever reaches the port.
 */
export function warnIfExposed(command: string, listen: string, host: string, token: string | undefined): void {
  if (token !== undefined || isLoopback(host)) return;
  console.error(
    `wisp ${command}: WARNING: the API listens on ${listen}, beyond loopback, without a token: anyone who can reach it can query the captured traffic; pass --token-file FILE (or --listen 127.0.0.1:PORT)`,
  );
}

/** Reads a bearer token from a file; an empty file is an error, not "no auth". */
export async function readToken(file: string): Promise<string> {
  const token = (await readFile(file, 'utf8')).trim();
  if (token.length === 0) throw new Error(`token file ${file} is empty`);
  return token;
}

function positiveInt(name: string, text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`--${name} wants a positive integer (got '${text}')`);
  return n;
}

/** A running engine: the agent and its API, and how to stop both. */
export interface RunningEngine {
  readonly agent: Agent;
  readonly app: FastifyInstance;
  readonly url: string;
  stop(): Promise<void>;
}

/** Starts capture and the API; used by `wisp engine` and `wisp demo`. */
export async function startEngine(opts: { listen: string; token?: string; budgetMiB?: number; capture?: CaptureSettings; cgroup?: string; kubernetes?: string; nodeName?: string }): Promise<RunningEngine> {
  const { host, port } = parseListen(opts.listen);
  if (opts.nodeName !== undefined && opts.kubernetes === undefined) throw new Error('--node-name only applies with --kubernetes');
  // The node a broker prunes by is the one ctx['node'] reports: known only with Kubernetes.
  const node = opts.kubernetes !== undefined ? resolveNodeName(opts.nodeName) : '';
  const metadata = opts.kubernetes !== undefined ? await loadKubernetesMetadata(opts.kubernetes, node) : undefined;
  const agent = Agent.start({
    ...(metadata ? { metadata } : {}),
    ...(opts.budgetMiB !== undefined ? { budgetBytes: opts.budgetMiB * 1024 * 1024 } : {}),
    ...(opts.capture !== undefined ? agentCapture(opts.capture) : {}),
    ...(opts.cgroup !== undefined ? { cgroup: opts.cgroup } : {}),
  });
  const metrics = new ApiMetrics();
  metrics.setSnapshot(() => agent.snapshot());
  const red = new RedMetrics(metrics.registry, agent.table, agent.metadata);
  // Also read between scrapes, so rows are counted before the store's budget can evict them.
  const redTimer = setInterval(() => red.catchUp(), 1000).unref();
  const app = buildApi({ backend: new LocalBackend(agent, {}, { node }), metrics, ...(opts.token !== undefined ? { token: opts.token } : {}) });
  try {
    await app.listen({ host, port });
  } catch (e) {
    agent.close();
    throw new Error(`cannot listen on ${opts.listen}: ${(e as Error).message}`);
  }
  warnIfExposed('engine', opts.listen, host, opts.token);
  return {
    agent,
    app,
    url: listenUrl(app, host, port),
    async stop() {
      clearInterval(redTimer);
      try {
        agent.close();
      } finally {
        await closeServer(app);
      }
    },
  };
}

/** How long requests in flight get to finish when the engine stops. */
const STOP_GRACE_MS = 2000;

/**
 * Closes the API: no new connections, idle ones closed, requests in flight get STOP_GRACE_MS
 * and then their connections are cut. Without the cut, one client that never finishes its
 * request (a body that never comes) keeps the engine or the broker from exiting after SIGTERM.
 */
export async function closeServer(app: FastifyInstance): Promise<void> {
  const cut = setTimeout(() => app.server.closeAllConnections(), STOP_GRACE_MS);
  try {
    await app.close();
  } finally {
    clearTimeout(cut);
  }
}

/** `wisp engine`: runs until SIGINT/SIGTERM. */
export async function runEngine(argv: string[]): Promise<number> {
  const { values } = parseCommandLine({
    args: argv,
    options: {
      listen: { type: 'string', default: '127.0.0.1:7070' },
      'token-file': { type: 'string' },
      'budget-mib': { type: 'string' },
      ...CAPTURE_OPTIONS,
      cgroup: { type: 'string' },
      kubernetes: { type: 'string' },
      'node-name': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(engineUsage());
    return 0;
  }
  const capture = captureSettings(values);
  const engine = await startEngine({
    listen: values.listen,
    ...(values['token-file'] !== undefined ? { token: await readToken(values['token-file']) } : {}),
    ...(values['budget-mib'] !== undefined ? { budgetMiB: positiveInt('budget-mib', values['budget-mib']) } : {}),
    capture,
    ...(values.cgroup !== undefined ? { cgroup: values.cgroup } : {}),
    ...(values.kubernetes !== undefined ? { kubernetes: values.kubernetes } : {}),
    ...(values['node-name'] !== undefined ? { nodeName: values['node-name'] } : {}),
  });
  const warning = redactionWarning(capture);
  if (warning !== undefined) console.error(warning);
  console.log(`wisp engine listening on ${engine.url}`);
  return new Promise((resolve) => {
    const stop = (): void => {
      engine.stop().then(
        () => resolve(0),
        (e: unknown) => {
          console.error(`wisp: stopping the engine failed: ${(e as Error).message}`);
          resolve(1);
        },
      );
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
