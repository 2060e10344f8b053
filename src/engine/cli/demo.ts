import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { QueryResponse, ResultTable } from '../api/contract.js';
import { LocalBackend } from '../api/local.js';
import { resolveFrame } from '../api/options.js';
import { startEngine } from './engine.js';
import { textTable } from './format.js';

export const DEMO_USAGE = `usage: wisp demo [--listen HOST:PORT] [--rps N] [--duration S]
  The local stack on this host, no Docker or Kubernetes: the engine (capture + API), a demo
  workload of three services on loopback calling each other plus a load generator, and the live
  numbers of a PxL dashboard script in the terminal, refreshed every 2 s.
  --listen    the engine API, for 'wisp query' and Grafana (default 127.0.0.1:7070)
  --rps       load generator rate (default 40)
  --duration  stop after S seconds (default: run until Ctrl-C)`;

/** The dashboard the demo renders: request rate, errors and latency per process, 5 s bins. */
export const DEMO_SCRIPT = `import px

def server_traffic(start_time: str):
    df = px.DataFrame(table='http_events', start_time=start_time)
    df = df[df.trace_role == 2]
    df.service = df.comm
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
export function renderDashboard(table: ResultTable, nowNs: bigint): string {
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
  return textTable(['process', 'req/s', 'errors', 'p50 ms', 'p90 ms', 'p99 ms', 'req/s, last 60 s'], rows);
}

function startWorkload(role: string, args: string[]): Promise<{ child: ChildProcess; url: string }> {
  const script = fileURLToPath(new URL('./demo/workload.js', import.meta.url));
  const child = spawn(process.execPath, [script, role, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  if (role === 'loadgen') return Promise.resolve({ child, url: '' });
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.once('line', (line) => {
      const m = /^listening (\d+)$/.exec(line);
      if (m) resolve({ child, url: `http://127.0.0.1:${m[1]}` });
      else reject(new Error(`demo ${role} said '${line}' instead of its port`));
    });
    child.once('exit', (code) => reject(new Error(`demo ${role} exited (${code}) before listening`)));
  });
}

/** `wisp demo`: runs until Ctrl-C or --duration. */
export async function runDemo(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      listen: { type: 'string', default: '127.0.0.1:7070' },
      rps: { type: 'string', default: '40' },
      duration: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(DEMO_USAGE);
    return 0;
  }
  const engine = await startEngine({ listen: values.listen });
  const children: ChildProcess[] = [];
  const stopAll = async (): Promise<void> => {
    for (const c of children) c.kill('SIGTERM');
    await engine.stop();
  };
  try {
    const catalog = await startWorkload('catalog', []);
    children.push(catalog.child);
    const cart = await startWorkload('cart', []);
    children.push(cart.child);
    const frontend = await startWorkload('frontend', ['--catalog', catalog.url, '--cart', cart.url]);
    children.push(frontend.child);
    children.push((await startWorkload('loadgen', ['--target', frontend.url, '--rps', values.rps])).child);
  } catch (e) {
    await stopAll();
    throw e;
  }
  const backend = new LocalBackend(engine.agent);
  const tty = process.stdout.isTTY === true;
  console.log(`wisp demo: engine API on ${engine.url} (try: bin/wisp query --url ${engine.url} FILE); Ctrl-C stops`);
  const tick = async (): Promise<void> => {
    const frame = resolveFrame({ script: DEMO_SCRIPT }, Date.now());
    const res: QueryResponse = await backend.query({ script: DEMO_SCRIPT }, frame, new AbortController().signal);
    const table = res.tables[0]!;
    const snap = engine.agent.snapshot();
    const header = `wisp demo — ${new Date().toISOString()} — ${snap.tables['http_events']?.rows ?? 0} rows in http_events, ${snap.captureEvents} capture events`;
    const text = `${header}\n\n${renderDashboard(table, frame.nowNs)}\n`;
    process.stdout.write(tty ? `\x1b[2J\x1b[H${text}\n(engine API: ${engine.url}; Ctrl-C stops)\n` : `${text}\n`);
  };
  const timer = setInterval(() => {
    tick().catch((e: unknown) => console.error(`wisp demo: dashboard query failed: ${(e as Error).message}`));
  }, 2000);
  return new Promise((resolve) => {
    const stop = (): void => {
      clearInterval(timer);
      stopAll().then(
        () => resolve(0),
        () => resolve(1),
      );
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    if (values.duration !== undefined) setTimeout(stop, Number(values.duration) * 1000);
  });
}
