/**
 * bench/capture: what capture costs and how much of the traffic it sees, in one run.
 *
 * For nginx (Debian, one worker) and a Node http server, each on loopback:
 *   1. wrk at saturation without the engine, then with it: requests/s both ways and the loss;
 *   2. wrk paced at 10k req/s with the engine: engine CPU (user+sys, from /proc) plus BPF run
 *      time (kernel.bpf_stats_enabled) per captured request;
 *   3. wrk paced at 50k req/s (or as close as two cores allow): the fraction captured, and the
 *      drops by reason.
 * Captured requests are counted by the engine itself with a PxL query on the phase's path.
 * The server and wrk run in a cgroup of their own and the engine is scoped to it (--cgroup), and
 * BPF time is read from the engine's own programs only, so other work on the machine (other
 * engines, other tests' traffic) is neither captured nor billed.
 *
 *   node out/bench/capture/run.js [--seconds 8]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { filesDir, nginxServer, nodeServer, run, waitForLine, type Peer } from '../../test/support/peers.js';
import { makeCgroup } from '../../test/capture-kernel/cgroups.js';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '8' } } });
const seconds = Number(values.seconds);
const root = new URL('../../../', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'wisp-bench-'));
const cgroup = makeCgroup('wisp-bench-capture');

/** Moves running processes into the bench cgroup (their later children follow). */
function enter(pids: readonly number[]): void {
  for (const pid of pids) writeFileSync(join(cgroup.path, 'cgroup.procs'), String(pid));
}

interface WrkResult {
  readonly requests: number;
  readonly rps: number;
}

/** wrk against `url`; `rate` paces it with wrk's delay() hook (per connection), 0 = saturate. */
async function wrk(url: string, rate: number, connections: number): Promise<WrkResult> {
  const script = join(work, `pace-${rate}.lua`);
  const delayMs = rate > 0 ? (connections * 1000) / rate : 0;
  writeFileSync(script, rate > 0 ? `function delay() return ${delayMs} end\n` : '');
  // wrk joins the cgroup before it execs, so both sides of every request are in scope.
  const r = await run('sh', ['-c', 'echo $$ > "$0/cgroup.procs" && exec wrk "$@"', cgroup.path, '-t1', `-c${connections}`, `-d${seconds}s`, '-s', script, url]);
  const m = /(\d+) requests in ([\d.]+)s/.exec(r.stdout);
  if (!m) throw new Error(`wrk printed no summary: ${r.stdout}${r.stderr}`);
  return { requests: Number(m[1]), rps: Number(m[1]) / Number(m[2]) };
}

function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100; // utime + stime, in clock ticks (USER_HZ = 100)
}

/** BPF program ids held open by `pid` (its fdinfo names them). */
function heldPrograms(pid: number): Set<number> {
  const ids = new Set<number>();
  for (const fd of readdirSync(`/proc/${pid}/fdinfo`)) {
    let info: string;
    try {
      info = readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8');
    } catch {
      continue; // closed while we looked
    }
    const m = /^prog_id:\s*(\d+)$/m.exec(info);
    if (m) ids.add(Number(m[1]));
  }
  return ids;
}

/** Run time of the engine's own programs (other engines on the machine load the same ones). */
async function bpfRunNs(enginePid: number): Promise<number> {
  const mine = heldPrograms(enginePid);
  const r = await run('bpftool', ['prog', 'show', '--json']);
  const progs = JSON.parse(r.stdout) as { id: number; run_time_ns?: number }[];
  return progs.filter((p) => mine.has(p.id)).reduce((s, p) => s + (p.run_time_ns ?? 0), 0);
}

interface Engine {
  readonly url: string;
  readonly child: ChildProcess;
}

async function startEngine(): Promise<Engine> {
  const child = spawn(join(root, 'bin/wisp'), ['engine', '--listen', '127.0.0.1:0', '--cgroup', cgroup.path], { stdio: ['ignore', 'pipe', 'pipe'] });
  const m = await waitForLine(child, /listening on (http:\/\/\S+)/, 30_000);
  return { url: m[1]!, child };
}

async function stopEngine(e: Engine): Promise<void> {
  await new Promise<void>((resolve) => {
    e.child.once('exit', () => resolve());
    e.child.kill('SIGTERM');
  });
}

/**
 * Waits until the engine has worked off what a phase left in the ring buffer (its CPU use over
 * half a second falls under 5 % of a core), so phases do not bill each other.
 */
async function settle(e: Engine): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const c0 = cpuSeconds(e.child.pid!);
    await new Promise((r) => setTimeout(r, 500));
    if (cpuSeconds(e.child.pid!) - c0 < 0.025 || Date.now() > deadline) return;
  }
}

/** Server-side rows the engine holds for requests to `path` on `port`. */
async function captured(e: Engine, port: number, path: string): Promise<number> {
  const script = `import px
df = px.DataFrame(table='http_events', start_time='-10m')
df = df[df.local_port == ${port}]
df = df[df.trace_role == 2]
df = df[df.req_path == '${path}']
df = df.agg(n=('latency', px.count))
px.display(df)
`;
  await settle(e);
  const res = await fetch(`${e.url}/api/v1/query`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ script }) });
  const body = (await res.json()) as { tables?: { data: string[][] }[]; error?: { message: string } };
  if (!res.ok || !body.tables) throw new Error(`count query failed: ${JSON.stringify(body.error ?? body)}`);
  return Number(body.tables[0]!.data[0]![0] ?? 0);
}

async function drops(e: Engine): Promise<Record<string, number>> {
  const r = (await (await fetch(`${e.url}/readyz`)).json()) as { capture: { drops: Record<string, number> } };
  return Object.fromEntries(Object.entries(r.capture.drops).filter(([, n]) => n > 0));
}

interface Row {
  target: string;
  rpsWithout: number;
  rpsWith: number;
  cpuUsPerReq: number;
  bpfUsPerReq: number;
  rate10k: number;
  captured10k: number;
  rateHigh: number;
  capturedHigh: number;
  drops: Record<string, number>;
}

async function benchTarget(name: string, peer: Peer, file: string): Promise<Row> {
  const base = `http://127.0.0.1:${peer.port}`;
  const without = await wrk(`${base}/${file}`, 0, 32);
  const engine = await startEngine();
  try {
    await settle(engine);
    const withEngine = await wrk(`${base}/${file}`, 0, 32);
    await settle(engine);

    // CPU is read after the engine has caught up, so it covers all the work of the phase.
    const cpu0 = cpuSeconds(engine.child.pid!);
    const bpf0 = await bpfRunNs(engine.child.pid!);
    const paced = await wrk(`${base}/${file}?phase=10k`, 10_000, 20);
    const n10k = await captured(engine, peer.port, `/${file}?phase=10k`);
    const cpu1 = cpuSeconds(engine.child.pid!);
    const bpf1 = await bpfRunNs(engine.child.pid!);

    await settle(engine);
    const high = await wrk(`${base}/${file}?phase=50k`, 50_000, 50);
    const nHigh = await captured(engine, peer.port, `/${file}?phase=50k`);
    return {
      target: name,
      rpsWithout: without.rps,
      rpsWith: withEngine.rps,
      cpuUsPerReq: ((cpu1 - cpu0) * 1e6) / Math.max(1, n10k),
      bpfUsPerReq: (bpf1 - bpf0) / 1e3 / Math.max(1, n10k),
      rate10k: paced.rps,
      // wrk does not count requests still in flight when it stops, so this can pass 100 %.
      captured10k: n10k / Math.max(1, paced.requests),
      rateHigh: high.rps,
      capturedHigh: nHigh / Math.max(1, high.requests),
      drops: await drops(engine),
    };
  } finally {
    await stopEngine(engine);
  }
}

async function main(): Promise<void> {
  await run('sysctl', ['-q', '-w', 'kernel.bpf_stats_enabled=1']);
  const dir = filesDir({ 'small.txt': 612 });
  const rows: Row[] = [];
  const nginx = await nginxServer(dir);
  enter([nginx.pid, ...nginx.workerPids()]);
  try {
    rows.push(await benchTarget('nginx', nginx, 'small.txt'));
  } finally {
    await nginx.stop();
  }
  const node = await nodeServer(`
import http from 'node:http';
const body = 'x'.repeat(612);
const s = http.createServer((req, res) => { res.writeHead(200, {'content-type': 'text/plain', 'content-length': body.length}); res.end(body); });
s.keepAliveTimeout = 60000;
s.listen(0, '127.0.0.1', () => console.log('listening ' + s.address().port));`);
  enter([node.pid]);
  try {
    rows.push(await benchTarget('node', node, 'small.txt'));
  } finally {
    await node.stop();
  }
  await run('sysctl', ['-q', '-w', 'kernel.bpf_stats_enabled=0']);
  await cgroup.remove();

  const pct = (x: number): string => `${(x * 100).toFixed(2)}%`;
  console.log(`bench/capture — ${new Date().toISOString().slice(0, 10)}, ${cpus().length} × ${cpus()[0]?.model ?? '?'}, ${seconds}s per phase`);
  console.log('| target | req/s without | req/s with | loss | CPU µs/req (engine user+sys) | BPF µs/req | total µs/req | req/s paced ~10k | captured | req/s paced ~50k | captured | drops |');
  console.log('|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    console.log(
      `| ${r.target} | ${r.rpsWithout.toFixed(0)} | ${r.rpsWith.toFixed(0)} | ${pct(1 - r.rpsWith / r.rpsWithout)} | ${r.cpuUsPerReq.toFixed(2)} | ${r.bpfUsPerReq.toFixed(2)} | ${(r.cpuUsPerReq + r.bpfUsPerReq).toFixed(2)} | ${r.rate10k.toFixed(0)} | ${pct(r.captured10k)} | ${r.rateHigh.toFixed(0)} | ${pct(r.capturedHigh)} | ${JSON.stringify(r.drops)} |`,
    );
  }
  console.log('targets: ≤ 5 µs CPU per request at 10k req/s; ≥ 99.9 % captured at 50k req/s; ≤ 10 % loss at saturation');
}

await main();
