/**
 * bench/capture/kernel: what the BPF programs alone cost per request, program by program.
 *
 * nginx (one worker) and a Node server each serve a body (612 bytes by default) on loopback, in
 * a cgroup of their own with wrk; the addon's tracer, opened in this process, is scoped to that
 * cgroup and drained on a timer (records are discarded: only the kernel side is measured). wrk
 * is paced (default 10k req/s over 20 keep-alive connections), so both sides of every request
 * are captured and the ring never fills. With kernel.bpf_stats_enabled=1 the kernel times every
 * run of the tracer's programs; this prints, per target, the BPF µs per request (both sides),
 * runs per request and ns per run, and with --per-program each program's share. The programs
 * also run (and return at once) for every other process on the machine: that background is
 * measured around each phase and subtracted.
 *
 * --against ADDON loads a second build of wisp_capture.node (e.g. the previous commit's) beside
 * this one: both tracers see every syscall of the same phase, and the order they are attached in
 * alternates between repeats (the program that runs second finds the caches warm, a difference
 * of up to 1 µs per request here), so the comparison holds however busy the machine is. Figures
 * are means over the repeats; use an even --repeat with --against.
 *
 * --max-bytes sets maxBytesPerSyscall (both builds; --against-max-bytes for the other one only).
 * --sides server|client|both traces that side with this build (the other one traces both).
 * --ring-bytes and --drain-ms size the ring and space the drains: a small ring drained seldom
 * shows overload shedding (the shed_* counters) instead of ringbuf_full_events.
 * --mute mutes every connection (conn_ctl) as soon as its open record is drained: what a
 * connection user space has no more use for costs.
 *
 *   node out/bench/capture/kernel.js [--seconds 8] [--rate 10000] [--repeat 3] [--body 612]
 *                                    [--max-bytes N] [--against ADDON] [--against-max-bytes N]
 *                                    [--per-program] [--mute] [--sides S]
 *                                    [--ring-bytes N] [--drain-ms N]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadAddon, type AddonOpenOptions, type CaptureAddon, type TracerHandle } from '../../src/engine/capture/addon.js';
import { DEFAULT_MAX_BYTES_PER_SYSCALL } from '../../src/engine/capture/tracer.js';
import { connIdOf, decodeBatch } from '../../src/engine/capture/decode.js';
import type { CaptureEvent } from '../../src/engine/capture/types.js';
import { makeCgroup, startIn } from '../../test/capture-kernel/cgroups.js';
import { filesDir, nginxServer, run } from '../../test/support/peers.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '8' },
    rate: { type: 'string', default: '10000' },
    repeat: { type: 'string', default: '3' },
    body: { type: 'string', default: '612' },
    'max-bytes': { type: 'string' },
    'against-max-bytes': { type: 'string' },
    against: { type: 'string' },
    'per-program': { type: 'boolean', default: false },
    mute: { type: 'boolean', default: false },
    sides: { type: 'string', default: 'both' },
    'ring-bytes': { type: 'string', default: String(32 << 20) },
    'drain-ms': { type: 'string', default: '20' },
  },
});
const seconds = Number(values.seconds);
const rate = Number(values.rate);
const repeat = Number(values.repeat);
const bodyBytes = Number(values.body);
const connections = 20;
const STATS_SWITCH = '/proc/sys/kernel/bpf_stats_enabled';
const cg = makeCgroup('wisp-bench-kernel');

/** One build of the addon, opened as a tracer scoped to the bench cgroup. */
interface Variant { name: string; addon: CaptureAddon; maxBytes: number; sides: number; handle?: TracerHandle }

interface ProgStat { name: string; runs: number; ns: number }

async function progStats(ids: ReadonlySet<number>): Promise<Map<number, ProgStat>> {
  const r = await run('bpftool', ['prog', 'show', '--json']);
  const out = new Map<number, ProgStat>();
  for (const p of JSON.parse(r.stdout) as { id: number; name: string; run_cnt?: number; run_time_ns?: number }[]) {
    if (ids.has(p.id)) out.set(p.id, { name: p.name, runs: p.run_cnt ?? 0, ns: p.run_time_ns ?? 0 });
  }
  return out;
}

async function wrk(url: string): Promise<number> {
  const script = `/tmp/wisp-bench-kernel-${process.pid}.lua`;
  writeFileSync(script, `function delay() return ${(connections * 1000) / rate} end\n`);
  const r = await run('sh', ['-c', 'echo $$ > "$0/cgroup.procs" && exec wrk "$@"', cg.path, '-t1', `-c${connections}`, `-d${seconds}s`, '-s', script, url]);
  const m = /(\d+) requests in ([\d.]+)s/.exec(r.stdout);
  if (!m) throw new Error(`wrk printed no summary: ${r.stdout}${r.stderr}`);
  return Number(m[1]);
}

/**
 * One phase of one variant: µs per request, runs and ns net of the background; `progs` are the
 * raw per-program figures (background included), for where the time goes.
 */
interface Phase { requests: number; usPerReq: number; runs: number; ns: number; bgShare: number; progs: ProgStat[]; drops: Record<string, number> }

function open(v: Variant): void {
  const opts: AddonOpenOptions = {
    selfTgid: process.pid,
    maxBytesPerSyscall: v.maxBytes,
    traceSides: v.sides,
    ringBufferBytes: Number(values['ring-bytes']),
    lazyDetectAttempts: 32,
    batchBytes: 4 << 20,
    cgroupPath: cg.path,
    raw: true,
  };
  v.handle = v.addon.open(opts);
}

function muteOpened(v: Variant, batch: Buffer): void {
  const events: CaptureEvent[] = [];
  decodeBatch(batch, 0n, events);
  for (const e of events) if (e.kind === 'open') v.addon.setConnCtl(v.handle!, connIdOf(e.connKey), 0, 0, true);
}

/** Run counts and time of each variant's programs, summed, at one moment. */
interface Sample { at: number; byVariant: Map<number, ProgStat>[] }

async function sample(ids: readonly ReadonlySet<number>[]): Promise<Sample> {
  const byVariant = await Promise.all(ids.map(progStats));
  return { at: performance.now(), byVariant };
}

function totals(a: Map<number, ProgStat>, b: Map<number, ProgStat>): { runs: number; ns: number } {
  let runs = 0;
  let ns = 0;
  for (const [id, y] of b) {
    const x = a.get(id);
    runs += y.runs - (x?.runs ?? 0);
    ns += y.ns - (x?.ns ?? 0);
  }
  return { runs, ns };
}

/**
 * One wrk run, measured for every variant at once. The programs run on every syscall of the
 * machine and return early for tasks outside the cgroup; that background (other work on a
 * shared machine) is measured with no traffic just before and after, and its rate subtracted.
 */
async function phase(vs: readonly Variant[], url: string): Promise<Phase[]> {
  const ids = vs.map((v) => new Set(v.addon.ids(v.handle!).programs));
  const d0 = vs.map((v) => v.addon.stats(v.handle!).drops);
  const drain = setInterval(() => {
    for (const v of vs) {
      for (let batch = v.addon.drain(v.handle!); batch !== null; batch = v.addon.drain(v.handle!)) {
        if (values.mute) muteOpened(v, batch);
      }
    }
  }, Number(values['drain-ms']));
  const idle = (): Promise<void> => new Promise((r) => setTimeout(r, 1500));
  let requests = 0;
  const s = [await sample(ids)];
  try {
    await idle();
    s.push(await sample(ids));
    requests = await wrk(url);
    s.push(await sample(ids));
    await idle();
    s.push(await sample(ids));
  } finally {
    clearInterval(drain);
  }
  // The switch is global: another bench finishing meanwhile may have turned it off.
  if (readFileSync(STATS_SWITCH, 'utf8').trim() !== '1') throw new Error(`${STATS_SWITCH} was turned off during the phase; run again`);
  const [a, b, c, d] = s as [Sample, Sample, Sample, Sample];
  return vs.map((v, i) => {
    const before = totals(a.byVariant[i]!, b.byVariant[i]!);
    const after = totals(c.byVariant[i]!, d.byVariant[i]!);
    const idleMs = b.at - a.at + (d.at - c.at);
    const phaseMs = c.at - b.at;
    const bgRuns = ((before.runs + after.runs) / idleMs) * phaseMs;
    const bgNs = ((before.ns + after.ns) / idleMs) * phaseMs;
    const progs: ProgStat[] = [];
    for (const [id, y] of c.byVariant[i]!) {
      const x = b.byVariant[i]!.get(id) ?? { name: y.name, runs: 0, ns: 0 };
      if (y.runs > x.runs) progs.push({ name: y.name, runs: y.runs - x.runs, ns: y.ns - x.ns });
    }
    const raw = totals(b.byVariant[i]!, c.byVariant[i]!);
    const d1 = v.addon.stats(v.handle!).drops;
    const drops = Object.fromEntries(Object.entries(d1).map(([k, n]) => [k, n - (d0[i]![k] ?? 0)]).filter(([, n]) => n !== 0));
    return {
      requests,
      usPerReq: (raw.ns - bgNs) / 1e3 / Math.max(1, requests),
      runs: raw.runs - bgRuns,
      ns: raw.ns - bgNs,
      bgShare: bgNs / Math.max(1, raw.ns),
      progs: progs.sort((x, y) => y.ns - x.ns),
      drops,
    };
  });
}

async function target(name: string, url: string, vs: Variant[]): Promise<void> {
  const byVariant: Phase[][] = vs.map(() => []);
  for (let i = 0; i < repeat; i++) {
    // Attach in turn first and last: a program that runs second finds the caches warm.
    const order = i % 2 === 0 ? vs : [...vs].reverse();
    for (const v of order) open(v);
    const ps = await phase(order, url);
    order.forEach((v, j) => byVariant[vs.indexOf(v)]!.push(ps[j]!));
    for (const v of vs) v.addon.close(v.handle!);
  }
  vs.forEach((v, i) => {
    const phases = byVariant[i]!;
    const sum = (f: (p: Phase) => number): number => phases.reduce((n, p) => n + f(p), 0);
    const requests = sum((p) => p.requests);
    const runs = sum((p) => p.runs);
    const ns = sum((p) => p.ns);
    console.log(`${name} ${v.name}: BPF ${(sum((p) => p.usPerReq) / phases.length).toFixed(2)} µs/request (mean of ${phases.map((p) => p.usPerReq.toFixed(2)).join(', ')}), ` +
      `${(runs / requests).toFixed(1)} runs/request at ${(ns / Math.max(1, runs)).toFixed(0)} ns/run, ${requests} requests, ` +
      `background ${((sum((p) => p.bgShare) / phases.length) * 100).toFixed(0)} % of the raw time, drops ${JSON.stringify(sumDrops(phases))}`);
    if (values['per-program']) {
      const byName = new Map<string, ProgStat>();
      for (const p of phases.flatMap((q) => q.progs)) {
        const t = byName.get(p.name) ?? { name: p.name, runs: 0, ns: 0 };
        t.runs += p.runs;
        t.ns += p.ns;
        byName.set(p.name, t);
      }
      for (const p of [...byName.values()].sort((x, y) => y.ns - x.ns)) {
        console.log(`  ${p.name.padEnd(16)} ${(p.runs / requests).toFixed(2).padStart(6)} runs/req ${(p.ns / p.runs).toFixed(0).padStart(6)} ns/run ${(p.ns / 1e3 / requests).toFixed(3).padStart(7)} µs/req`);
      }
    }
  });
}

function sumDrops(phases: readonly Phase[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const p of phases) for (const [k, n] of Object.entries(p.drops)) out[k] = (out[k] ?? 0) + n;
  return out;
}

/** Moves a running server's processes into the cgroup, once its workers are there to move. */
async function enter(cgroup: string, pids: () => number[]): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (pids().length < 2) {
    if (Date.now() > deadline) throw new Error('nginx started no worker within 10 s');
    await new Promise((r) => setTimeout(r, 50));
  }
  for (const pid of pids()) writeFileSync(join(cgroup, 'cgroup.procs'), String(pid));
}

async function main(): Promise<void> {
  const maxBytes = Number(values['max-bytes'] ?? DEFAULT_MAX_BYTES_PER_SYSCALL);
  const sides = { client: 1, server: 2, both: 3 }[values.sides];
  if (sides === undefined) throw new Error(`--sides must be server, client or both, not ${values.sides}`);
  const vs: Variant[] = [{ name: 'this build', addon: loadAddon(), maxBytes, sides }];
  if (values.against !== undefined) {
    vs.push({
      name: `against ${values.against}`,
      addon: createRequire(import.meta.url)(values.against) as CaptureAddon,
      maxBytes: Number(values['against-max-bytes'] ?? maxBytes),
      sides: 3,
    });
  }
  const statsWere = readFileSync(STATS_SWITCH, 'utf8').trim();
  writeFileSync(STATS_SWITCH, '1');
  const dir = filesDir({ 'small.txt': bodyBytes });
  const nginx = await nginxServer(dir);
  await enter(cg.path, () => [nginx.pid, ...nginx.workerPids()]);
  const node = await startIn(cg.path, process.execPath, ['-e', `
    const body = 'x'.repeat(${bodyBytes});
    const s = require('http').createServer((req, res) => { res.writeHead(200, {'content-type': 'text/plain', 'content-length': body.length}); res.end(body); });
    s.keepAliveTimeout = 60000;
    s.listen(0, '127.0.0.1', () => console.log(s.address().port));`]);
  try {
    console.log(`bench/capture/kernel — ${seconds}s per phase at ~${rate} req/s, ${connections} connections, ${bodyBytes}-byte body`);
    await target('nginx', `http://127.0.0.1:${nginx.port}/small.txt`, vs);
    await target('node ', `http://127.0.0.1:${node.firstLine}/small.txt`, vs);
  } finally {
    await nginx.stop();
    node.proc.kill();
    await node.exit;
    writeFileSync(STATS_SWITCH, statsWere);
    await cg.remove();
  }
}

await main();
