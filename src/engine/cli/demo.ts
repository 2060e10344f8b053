import { spawn, type ChildProcess } from 'node:child_process';
import { constants } from 'node:os';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { QueryResponse, ResultTable } from '../api/contract.js';
import { LocalBackend } from '../api/local.js';
import { resolveFrame } from '../api/options.js';
import { parseCommandLine, UsageError } from './args.js';
import { CAPTURE_OPTIONS, CAPTURE_USAGE, captureSettings, redactionWarning } from './capture-flags.js';
import { startEngine, type RunningEngine } from './engine.js';
import { demoCgroups, type DemoCgroups } from './demo/cgroups.js';
import { textTable } from './format.js';

const DEMO_USAGE = `usage: wisp demo [--listen HOST:PORT] [--rps N] [--duration S] [--body-bytes N]
                 [--redact defaults|listed|off] [--redact-header NAME]... [--redact-query-param NAME]...
  The local stack on this host, no Docker or Kubernetes: the engine (capture + API), a demo
  workload of three services on loopback calling each other plus a load generator, each in its
  own cgroup (<cgroup2>/wisp-demo-PID.slice/NAME.service, so df.ctx['service'] names it), and
  the live numbers of a PxL dashboard script in the terminal, refreshed every 2 s.
  --listen    the engine API, for 'wisp query' and Grafana (default 127.0.0.1:7070)
  --rps       load generator rate (default 40)
  --duration  stop after S seconds (default: run until Ctrl-C)
${CAPTURE_USAGE}
  Ctrl-C (SIGINT) or SIGTERM stops the workload and the engine and exits 0; a second one exits at once.`;

/**
 * The dashboard the demo renders: request rate, errors and latency per service, 5 s bins, from
 * ordinary PxL on df.ctx['service'] (the demo's cgroups name the services).
 */
const DEMO_SCRIPT = `import px

def server_traffic(start_time: str):
    df = px.DataFrame(table='http_events', start_time=start_time)
    df = df[df.trace_role == 2]
    df.service = df.ctx['service']
    df = df[df.service != '']
    return df

df = server_traffic('-60s')
df.timestamp = px.bin(df.time_, px.DurationNanos(5 * 1000 * 1000 * 1000))
df.failure = px.select(df.resp_status >= 400, 1.0, 0.0)
per_bin = df.groupby(['timestamp', 'service']).agg(
    requests=('latency', px.count),
    error_rate=('failure', px.mean),
    latency=('latency', px.quantiles),
)
per_bin.rps = per_bin.requests / 5.0
per_bin.p50_ms = px.pluck_float64(per_bin.latency, 'p50') / 1e6
per_bin.p90_ms = px.pluck_float64(per_bin.latency, 'p90') / 1e6
per_bin.p99_ms = px.pluck_float64(per_bin.latency, 'p99') / 1e6
px.display(per_bin[['timestamp', 'service', 'rps', 'error_rate', 'p50_ms', 'p90_ms', 'p99_ms']], 'http')
`;

const SPARK = '▁▂▃▄▅▆▇█';

function spark(values: readonly number[]): string {
  const max = Math.max(...values, 1e-9);
  return values.map((v) => v <= 0 ? ' ' : SPARK[Math.min(SPARK.length - 1, Math.round((v / max) * (SPARK.length - 1)))]).join('');
}

/** Turns the `http` output into one line per service: the last complete bin, and a sparkline of req/s. */
function renderDashboard(table: ResultTable, nowNs: bigint): string {
  const binNs = 5_000_000_000n;
  const lastComplete = (nowNs / binNs) * binNs - binNs;
  const bins = Array.from({ length: 12 }, (_, i) => lastComplete - BigInt(11 - i) * binNs);
  const col = (name: string): readonly (string | number | boolean | null)[] => table.data[table.columns.findIndex((c) => c.name === name)]!;
  const [ts, svc, rps, err, p50, p90, p99] = ['timestamp', 'service', 'rps', 'error_rate', 'p50_ms', 'p90_ms', 'p99_ms'].map(col);
  const byService = new Map<string, Map<bigint, number>>();
  for (let i = 0; i < table.rowCount; i++) {
    const s = String(svc![i]);
    if (!byService.has(s)) byService.set(s, new Map());
    byService.get(s)!.set(BigInt(String(ts![i])), i);
  }
  const num = (c: readonly (string | number | boolean | null)[], i: number | undefined): number => (i === undefined ? 0 : Number(c[i]));
  const rows = [...byService.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([s, at]) => {
      const i = at.get(lastComplete);
      return [
        s || '(unnamed)',
        num(rps!, i).toFixed(1),
        `${(num(err!, i) * 100).toFixed(1)}%`,
        num(p50!, i).toFixed(2),
        num(p90!, i).toFixed(2),
        num(p99!, i).toFixed(2),
        spark(bins.map((b) => num(rps!, at.get(b)))),
      ];
    });
  return textTable(['service', 'req/s', 'errors', 'p50 ms', 'p90 ms', 'p99 ms', 'req/s, last 60 s'], rows);
}

/**
 * A workload process, in `cgroup` when given: a shell moves itself there and execs the workload,
 * so none of its traffic happens outside. `listening` resolves with its URL (at once, '' for the
 * load generator).
 */
function startWorkload(role: string, args: string[], cgroup: string | undefined): { child: ChildProcess; listening: Promise<string> } {
  const script = fileURLToPath(new URL('./demo/workload.js', import.meta.url));
  const argv = [process.execPath, script, role, ...args];
  const child =
    cgroup === undefined
      ? spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] })
      : spawn('sh', ['-c', 'echo $$ > "$0/cgroup.procs" && exec "$@"', cgroup, ...argv], { stdio: ['ignore', 'pipe', 'inherit'] });
  if (role === 'loadgen') return { child, listening: Promise.resolve('') };
  const listening = new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.once('line', (line) => {
      const m = /^listening (\d+)$/.exec(line);
      if (m) resolve(`http://127.0.0.1:${m[1]}`);
      else reject(new Error(`demo ${role} said '${line}' instead of its port`));
    });
    child.once('exit', (code) => reject(new Error(`demo ${role} exited (${code}) before listening`)));
  });
  return { child, listening };
}

/** SIGTERMs the children and waits until each has exited (SIGKILL for one still there after 3 s). */
async function stopChildren(children: readonly ChildProcess[]): Promise<void> {
  const alive = children.filter((c) => c.exitCode === null && c.signalCode === null);
  const exits = alive.map((c) => new Promise<void>((resolve) => c.once('exit', () => resolve())));
  for (const c of alive) c.kill('SIGTERM');
  const timer = setTimeout(() => {
    for (const c of alive) c.kill('SIGKILL');
  }, 3000);
  await Promise.all(exits);
  clearTimeout(timer);
}

/**
 * Takes SIGINT and SIGTERM for the whole run, from before anything starts: `stopped` resolves
 * on the first one, a second one kills the children and exits at once. Listening from the
 * start matters: without a listener of ours the tracer's handler re-raises the signal, and a
 * stop during startup would end the process with its children still running.
 */
function stopSignals(children: readonly ChildProcess[]): { stopped: Promise<void>; dispose(): void } {
  let resolve!: () => void;
  const stopped = new Promise<void>((r) => (resolve = r));
  let count = 0;
  const handler = (signal: NodeJS.Signals): void => {
    if (++count === 1) return resolve();
    for (const c of children) c.kill('SIGKILL');
    process.exit(128 + constants.signals[signal]);
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return {
    stopped,
    dispose() {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    },
  };
}

function positiveNumber(name: string, text: string, max: number): number {
  const n = Number(text);
  if (!(n > 0 && n <= max)) throw new UsageError(`--${name} wants a number above 0, at most ${max} (got '${text}')`);
  return n;
}

/** `wisp demo`: runs until SIGINT/SIGTERM (Ctrl-C) or --duration, then stops everything and returns 0. */
export async function runDemo(argv: string[]): Promise<number> {
  const { values } = parseCommandLine({
    args: argv,
    options: {
      listen: { type: 'string', default: '127.0.0.1:7070' },
      rps: { type: 'string', default: '40' },
      duration: { type: 'string' },
      ...CAPTURE_OPTIONS,
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(DEMO_USAGE);
    return 0;
  }
  const rps = positiveNumber('rps', values.rps, 10_000);
  const durationMs = values.duration !== undefined ? positiveNumber('duration', values.duration, 7 * 24 * 3600) * 1000 : undefined;
  const capture = captureSettings(values);
  const children: ChildProcess[] = [];
  const signals = stopSignals(children);
  let stopRequested = false;
  const stop = signals.stopped.then(() => {
    stopRequested = true;
  });
  let engine: RunningEngine | undefined;
  let ticker: NodeJS.Timeout | undefined;
  let deadline: NodeJS.Timeout | undefined;
  let cgroups: DemoCgroups | undefined;
  /** A workload's URL, or undefined when a stop came first. */
  const started = async (role: string, args: string[]): Promise<string | undefined> => {
    if (stopRequested) return undefined;
    const w = startWorkload(role, args, cgroups?.service(role));
    children.push(w.child);
    const first = await Promise.race([w.listening.then((url) => ({ url }), (error: Error) => ({ error })), stop.then(() => undefined)]);
    if (first !== undefined && 'error' in first) throw first.error;
    return first?.url;
  };
  try {
    engine = await startEngine({ listen: values.listen, capture });
    const warning = redactionWarning(capture);
    if (warning !== undefined) console.error(warning);
    const made = demoCgroups();
    if ('unavailable' in made) console.error(`wisp demo: the services run without their own cgroups (${made.unavailable}), so df.ctx['service'] names the unit they inherit`);
    else cgroups = made;
    const catalog = await started('catalog', []);
    if (catalog === undefined) return 0;
    const cart = await started('cart', []);
    if (cart === undefined) return 0;
    const frontend = await started('frontend', ['--catalog', catalog, '--cart', cart]);
    if (frontend === undefined) return 0;
    if ((await started('loadgen', ['--target', frontend, '--rps', String(rps)])) === undefined) return 0;
    const running = engine;
    const backend = new LocalBackend(running.agent);
    const tty = process.stdout.isTTY === true;
    console.log(`wisp demo: engine API on ${running.url} (try: bin/wisp query --url ${running.url} FILE); Ctrl-C stops`);
    const tick = async (): Promise<void> => {
      const frame = resolveFrame({ script: DEMO_SCRIPT }, Date.now());
      const res: QueryResponse = await backend.query({ script: DEMO_SCRIPT }, frame, new AbortController().signal);
      const table = res.tables[0]!;
      const snap = running.agent.snapshot();
      const header = `wisp demo — ${new Date().toISOString()} — ${snap.tables['http_events']?.rows ?? 0} rows in http_events, ${snap.captureEvents} capture events`;
      const text = `${header}\n\n${renderDashboard(table, frame.nowNs)}\n`;
      process.stdout.write(tty ? `\x1b[2J\x1b[H${text}\n(engine API: ${running.url}; Ctrl-C stops)\n` : `${text}\n`);
    };
    ticker = setInterval(() => {
      tick().catch((e: unknown) => console.error(`wisp demo: dashboard query failed: ${(e as Error).message}`));
    }, 2000);
    const elapsed = durationMs === undefined ? undefined : new Promise<void>((resolve) => (deadline = setTimeout(resolve, durationMs)));
    await Promise.race(elapsed === undefined ? [stop] : [stop, elapsed]);
    return 0;
  } finally {
    clearInterval(ticker);
    clearTimeout(deadline);
    const childrenGone = stopChildren(children);
    try {
      await engine?.stop();
    } finally {
      await childrenGone;
      await cgroups?.remove();
      signals.dispose();
    }
  }
}
