/**
 * The red team: hostile requests (test/redteam/http.ts, scripts from pxl.ts) against a live
 * `wisp engine` capturing real traffic and a live `wisp broker` over it, both with tokens, for a
 * fixed time budget and from a seeded PRNG (a failure names the seed and the case). Checked
 * throughout: every answer is 2xx or 4xx (5xx only 503/504, as docs/api.md documents) and a 4xx
 * carries the API's JSON error body; both processes stay up; `/healthz` of each answers within
 * 1 s, probed every 200 ms while the attack runs; the resident memory of each stays under its
 * bound (RSS_BOUND). Needs root (capture).
 *
 *   WISP_REDTEAM_SEED=N WISP_REDTEAM_MS=M node --test out/test/redteam/fuzz.test.js
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { nodeServer, waitForLine, type Peer } from '../support/peers.js';
import { probeHealthz, rssBytes } from '../support/watch.js';
import { rawExchange, type RawResponse } from '../support/rawhttp.js';
import { rng } from '../../src/testkit/rng.js';
import { hostileRequest, type HostileRequest } from './http.js';

const WISP = fileURLToPath(new URL('../../../bin/wisp', import.meta.url));
if (process.getuid?.() !== 0) throw new Error('test/redteam/fuzz.test.ts needs root (the engine loads BPF programs): run it as root, as CI does');

const SEED = Number(process.env['WISP_REDTEAM_SEED'] ?? 20261207);
const BUDGET_MS = Number(process.env['WISP_REDTEAM_MS'] ?? 40_000);
const MIB = 1 << 20;
/**
 * Resident memory allowed, whatever is sent. An engine idles at about 200 MiB; on top come its
 * store (the captured traffic, here tens of MiB of its 256 MiB budget) and the queries it works
 * on: at most 4 at once (the API's admission), each holding at most an answer of 16 MiB with the
 * columns, cells, JSON and socket buffers behind it (about 200 MiB), plus what V8 has not given
 * back yet. The broker holds no store. Seen over 12 seeds: 962 and 613 MiB at most.
 */
const RSS_BOUND = { engine: 1280 * MIB, broker: 1024 * MIB } as const;
const HEALTHZ_MS = 1000;
const WORKERS_PER_TARGET = 2;

interface Target {
  readonly name: 'engine' | 'broker';
  readonly proc: ChildProcess;
  readonly url: string;
  readonly token: string;
  stderr: string;
  exited: string | null;
  maxRss: number;
  maxHealthzMs: number;
  probes: number;
  readonly probeFailures: string[];
}

const dir = mkdtempSync(join(tmpdir(), 'wisp-redteam-'));
const targets: Target[] = [];
let server: Peer;
let client: ChildProcess;

async function start(name: Target['name'], args: string[], ready: RegExp, token: string): Promise<Target> {
  const proc = spawn(WISP, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const t: Target = { name, proc, url: '', token, stderr: '', exited: null, maxRss: 0, maxHealthzMs: 0, probes: 0, probeFailures: [] };
  proc.stderr!.on('data', (c: Buffer) => (t.stderr = (t.stderr + c.toString()).slice(-4000)));
  proc.once('exit', (code, sig) => (t.exited = `exit ${code ?? sig}`));
  const url = (await waitForLine(proc, ready, 30_000))[1]!;
  return Object.assign(t, { url });
}

before(async () => {
  writeFileSync(join(dir, 'engine'), 'redteam-engine-token\n');
  writeFileSync(join(dir, 'broker'), 'redteam-broker-token\n');
  const engine = await start('engine', ['engine', '--listen', '127.0.0.1:0', '--token-file', join(dir, 'engine')], /listening on (http:\/\/\S+)/, 'redteam-engine-token');
  const broker = await start(
    'broker',
    ['broker', '--listen', '127.0.0.1:0', '--token-file', join(dir, 'broker'), '--engine-token-file', join(dir, 'engine'), '--engines', engine.url],
    /API on (http:\/\/\S+)/,
    'redteam-broker-token',
  );
  targets.push(engine, broker);
  // Real traffic for the engine to capture, so that queries have rows to chew on.
  server = await nodeServer(`
import http from 'node:http';
const s = http.createServer((req, res) => { res.writeHead(req.url.includes('err') ? 500 : 200, {'content-type': 'text/plain'}); res.end('x'.repeat(req.url.length)); });
s.listen(0, '127.0.0.1', () => console.log('listening ' + s.address().port));`);
  client = spawn(
    process.execPath,
    [
      '-e',
      `const http = require('http'); const agent = new http.Agent({ keepAlive: true }); let i = 0;
       setInterval(() => http.get({ host: '127.0.0.1', port: ${server.port}, path: ['/a', '/b/' + (i % 7), '/err', '/c?q=' + i][i++ % 4], agent }, (r) => r.resume()).on('error', () => {}), 20);`,
    ],
    { stdio: 'ignore' },
  );
});

after(async () => {
  client?.kill('SIGKILL');
  await server?.stop();
  for (const t of targets) {
    if (t.exited !== null) continue;
    const gone = new Promise((r) => t.proc.once('exit', r));
    t.proc.kill('SIGTERM');
    await gone;
  }
  rmSync(dir, { recursive: true, force: true });
});

/**
 * Probes /healthz of every target every 200 ms from a process of its own (so that the
 * attacker's own work in this process cannot make the targets look slow), and samples their RSS,
 * until `stop` resolves.
 */
async function watch(stop: Promise<void>): Promise<void> {
  const stopProbing = probeHealthz(Object.fromEntries(targets.map((t) => [t.name, t.url])), 200, (p) => {
    const t = targets.find((x) => x.name === p.name)!;
    t.maxHealthzMs = Math.max(t.maxHealthzMs, p.ms);
    t.probes++;
    if (p.status !== 200) t.probeFailures.push(`/healthz: ${p.status || p.error}`);
  });
  const sampler = setInterval(() => {
    for (const t of targets) if (t.exited === null) t.maxRss = Math.max(t.maxRss, rssBytes(t.proc.pid!));
  }, 250);
  await stop;
  clearInterval(sampler);
  await stopProbing();
}

/** What is wrong with an answer, or null. */
function judge(req: HostileRequest, res: RawResponse): string | null {
  if (res.status === 0) {
    if (req.incomplete) return null;
    return res.ended === 'timeout' ? 'no answer within 15 s' : 'the connection closed without an answer';
  }
  const s = res.status;
  if (s >= 200 && s < 300) return null;
  if (s === 503 || s === 504) return null;
  if (s < 400 || s >= 500) return `status ${s}: ${res.body.toString().slice(0, 300)}`;
  if (req.method === 'HEAD') return null;
  try {
    const e = (JSON.parse(res.body.toString()) as { error?: { code?: unknown; message?: unknown } }).error;
    if (typeof e?.code === 'string' && typeof e.message === 'string') return null;
  } catch {
    // reported below
  }
  return `status ${s} without the API's JSON error body: ${res.body.toString().slice(0, 200)}`;
}

test(`hostile requests against a live engine and broker (seed ${SEED}, ${BUDGET_MS} ms)`, async (t) => {
  const deadline = performance.now() + BUDGET_MS;
  const failures: string[] = [];
  const statuses = new Map<string, number>();
  let cases = 0;
  let stopWatch!: () => void;
  const watching = watch(new Promise<void>((r) => (stopWatch = r)));
  await Promise.all(
    targets.flatMap((target, ti) =>
      Array.from({ length: WORKERS_PER_TARGET }, async (_, w) => {
        const seed = SEED + ti * 1000 + w;
        const r = rng(seed);
        const host = new URL(target.url).host;
        for (let i = 0; performance.now() < deadline && failures.length < 20 && target.exited === null; i++) {
          const req = hostileRequest(r, host, target.token);
          const res = await rawExchange(target.url, req.bytes, req.incomplete ? 1500 : 15_000, req.method === 'HEAD');
          cases++;
          const key = `${target.name} ${res.status || (req.incomplete ? 'abandoned' : 'none')}`;
          statuses.set(key, (statuses.get(key) ?? 0) + 1);
          const wrong = judge(req, res);
          if (wrong) failures.push(`${target.name} seed ${seed} case ${i} (${req.what}): ${wrong}\n  request starts: ${JSON.stringify(req.bytes.subarray(0, 300).toString('latin1'))}`);
        }
      }),
    ),
  );
  stopWatch();
  await watching;
  t.diagnostic(`${cases} requests; answers: ${[...statuses].sort().map(([k, v]) => `${k}: ${v}`).join(', ')}`);
  for (const x of targets) t.diagnostic(`${x.name}: max RSS ${(x.maxRss / MIB).toFixed(0)} MiB (bound ${RSS_BOUND[x.name] / MIB}), slowest /healthz ${x.maxHealthzMs.toFixed(0)} ms over ${x.probes} probes`);
  assert.deepEqual(failures, [], 'answers outside the contract');
  for (const x of targets) {
    assert.equal(x.exited, null, `${x.name} died: ${x.stderr}`);
    assert.deepEqual(x.probeFailures, [], `${x.name} /healthz`);
    assert.ok(x.maxHealthzMs < HEALTHZ_MS, `${x.name}: /healthz took ${x.maxHealthzMs.toFixed(0)} ms`);
    assert.ok(x.maxRss < RSS_BOUND[x.name], `${x.name}: RSS reached ${(x.maxRss / MIB).toFixed(0)} MiB`);
    assert.ok(x.probes > BUDGET_MS / 1000, `${x.name}: only ${x.probes} probes`);
  }
  assert.ok(cases > 100, `only ${cases} requests in ${BUDGET_MS} ms`);
});
