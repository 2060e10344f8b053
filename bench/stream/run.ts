/**
 * bench/stream: what streaming costs an engine and what a streaming client receives.
 *
 * wrk drives a Node http server on loopback at paced rates; both run in a cgroup of their own
 * and the engine is scoped to it (--cgroup). At each rate, for 0, 1 and 4 clients streaming
 * the server-side rows (`stream: true`), it reports the rows/s captured (server side, from
 * /metrics), the rows/s each client received, the capture → client lag (p50/p99), and the
 * engine's CPU: in all, and the extra per streamed row against the run with no stream.
 *
 *   node out/bench/stream/run.js [--rates 1000,4000] [--seconds 10]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { makeCgroup, startIn } from '../../test/capture-kernel/cgroups.js';
import { waitForLine } from '../../test/support/peers.js';

const { values } = parseArgs({ options: { rates: { type: 'string', default: '1000,4000' }, seconds: { type: 'string', default: '10' } } });
const RATES = values.rates.split(',').map(Number);
const SECONDS = Number(values.seconds);
if (RATES.some((r) => !(r > 0)) || !(SECONDS > 0)) throw new Error('--rates wants req/s such as 1000,4000 and --seconds a positive number');
const root = new URL('../../../', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'wisp-bench-stream-'));
const cgroup = makeCgroup('wisp-bench-stream');
const TICK = 100; // USER_HZ: /proc/<pid>/stat counts CPU time in 1/100 s

const SCRIPT = `import px
df = px.DataFrame(table='http_events', start_time='-1s')
df = df[df.trace_role == 2]
px.display(df[['time_', 'req_method', 'req_path', 'resp_status', 'latency']], 'events')
`;

function cpuSeconds(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) / TICK;
}

async function serverRows(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  let n = 0;
  for (const m of text.matchAll(/^wisp_http_server_requests_total\{.*\} (\S+)$/gm)) n += Number(m[1]);
  return n;
}

/** One streaming client: counts the rows it receives and each row's lag behind its capture. */
function reader(url: string): { rows: () => number; lags: number[]; close: () => void } {
  let rows = 0;
  const lags: number[] = [];
  const req = http.request(`${url}/api/v1/query`, { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
    let rest = '';
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      const now = Date.now();
      const parts = (rest + chunk).split('\n');
      rest = parts.pop()!;
      for (const p of parts) {
        const line = JSON.parse(p) as { t: string; tables?: { rowCount: number; data: string[][] }[] };
        for (const t of line.tables ?? []) {
          rows += t.rowCount;
          for (const ts of t.data[0]!) lags.push(now - Number(BigInt(ts) / 1_000_000n));
        }
      }
    });
  });
  req.on('error', () => undefined);
  req.end(JSON.stringify({ script: SCRIPT, stream: true }));
  return { rows: () => rows, lags, close: () => req.destroy() };
}

function wrk(base: string, rate: number, seconds: number): Promise<void> {
  const connections = 8;
  const script = join(work, 'load.lua');
  writeFileSync(script, `local i = 0\nfunction request() i = i + 1; return wrk.format(nil, '/r/' .. i) end\nfunction delay() return ${(connections * 1000) / rate} end\n`);
  const proc = spawn('sh', ['-c', 'echo $$ > "$0/cgroup.procs" && exec wrk "$@"', cgroup.path, '-t1', `-c${connections}`, `-d${seconds}s`, '-s', script, base], { stdio: 'ignore' });
  return new Promise((resolve) => proc.once('exit', () => resolve()));
}

function quantile(xs: readonly number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
}

const serverFile = join(work, 'server.js');
writeFileSync(serverFile, `const s = require('http').createServer((req, res) => res.end('ok'));\ns.keepAliveTimeout = 60000;\ns.listen(0, '127.0.0.1', () => console.log(s.address().port));`);
const server = await startIn(cgroup.path, process.execPath, [serverFile]);
const engine: ChildProcess = spawn(join(root, 'bin/wisp'), ['engine', '--listen', '127.0.0.1:0', '--cgroup', cgroup.path], { stdio: ['ignore', 'pipe', 'inherit'] });
const url = (await waitForLine(engine, /listening on (http:\/\/\S+)/, 30_000))[1]!;
const base = `http://127.0.0.1:${server.firstLine.trim()}`;

console.log(`bench/stream: ${SECONDS} s per run, engine ${url}, server ${base}`);
console.log('rate    streams  captured rows/s  received rows/s per stream  lag p50/p99 ms  engine CPU %  extra CPU per streamed row');
try {
  for (const rate of RATES) {
    let baselineCpu = 0;
    for (const streams of [0, 1, 4]) {
      const readers = Array.from({ length: streams }, () => reader(url));
      await new Promise((r) => setTimeout(r, 1000));
      const rows0 = await serverRows(url);
      const cpu0 = cpuSeconds(engine.pid!);
      const got0 = readers.map((r) => r.rows());
      const t0 = performance.now();
      await wrk(base, rate, SECONDS);
      await new Promise((r) => setTimeout(r, 1500));
      const elapsed = (performance.now() - t0) / 1000;
      const cpu = cpuSeconds(engine.pid!) - cpu0;
      const captured = (await serverRows(url)) - rows0;
      const received = readers.map((r, i) => r.rows() - got0[i]!);
      const lags = readers.flatMap((r) => r.lags);
      for (const r of readers) r.close();
      if (streams === 0) baselineCpu = cpu;
      const streamed = received.reduce((a, b) => a + b, 0);
      const extra = streams === 0 ? '' : `${(((cpu - baselineCpu) / streamed) * 1e6).toFixed(1)} µs`;
      const perStream = streams === 0 ? '' : received.map((n) => (n / elapsed).toFixed(0)).join(' / ');
      const lag = streams === 0 ? '' : `${quantile(lags, 0.5)} / ${quantile(lags, 0.99)}`;
      console.log(
        `${String(rate).padEnd(8)}${String(streams).padEnd(9)}${(captured / elapsed).toFixed(0).padEnd(17)}${perStream.padEnd(28)}${lag.padEnd(15)}${((cpu / elapsed) * 100).toFixed(1).padEnd(14)}${extra}`,
      );
    }
  }
} finally {
  engine.kill('SIGTERM');
  server.proc.kill('SIGKILL');
  await new Promise((r) => engine.once('exit', r));
  await server.exit;
  await cgroup.remove();
}
