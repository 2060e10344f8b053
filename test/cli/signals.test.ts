/**
 * `wisp demo`, `wisp tail`, `wisp engine` and `wisp broker` as processes: one SIGINT or SIGTERM,
 * once they serve (and while a client is stuck mid-request; for the demo also while it is still
 * starting or with --duration pending), ends them within 5 s with status 0 and no process of
 * theirs left behind.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { waitForLine } from '../support/peers.js';

const wisp = fileURLToPath(new URL('../../../bin/wisp', import.meta.url));
// Detaching waits for a kernel grace period per BPF link (docs/capture.md, "Stopping"): 1.5 to
// 5 s on a two-core host, growing with its load; a hang is what this bound catches.
const EXIT_MS = 15_000;

/** The state letter of /proc/<pid>/stat, or undefined when the process is gone. */
function procState(pid: number): string | undefined {
  try {
    return /^\d+ \(.*\) (\S)/s.exec(readFileSync(`/proc/${pid}/stat`, 'utf8'))?.[1];
  } catch {
    return undefined;
  }
}

/** Every live process below `pid` (children, their children …). */
function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${d}/stat`, 'utf8');
    } catch {
      continue;
    }
    const ppid = Number(/^\d+ \(.*\) \S (\d+)/s.exec(stat)?.[1]);
    if (!children.has(ppid)) children.set(ppid, []);
    children.get(ppid)!.push(Number(d));
  }
  const out: number[] = [];
  const walk = (p: number): void => {
    for (const c of children.get(p) ?? []) {
      out.push(c);
      walk(c);
    }
  };
  walk(pid);
  return out;
}

function exited(child: ChildProcess, ms: number): Promise<{ code: number | null; signal: NodeJS.Signals | null } | 'timeout'> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve({ code: child.exitCode, signal: child.signalCode });
    const timer = setTimeout(() => resolve('timeout'), ms);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal });
    });
  });
}

/**
 * Starts `wisp ARGS`, waits for `ready(child)`, sends one `signal`, and checks the exit and
 * that no descendant outlives it. Whatever is left is killed afterwards (by pid).
 */
async function stopsCleanly(args: string[], signal: NodeJS.Signals, ready: (child: ChildProcess) => Promise<unknown>): Promise<void> {
  const child = spawn(wisp, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  let family: number[] = [];
  try {
    await ready(child);
    family = descendants(child.pid!);
    const sentAt = Date.now();
    child.kill(signal);
    const end = await exited(child, EXIT_MS);
    assert.notEqual(end, 'timeout', `wisp ${args.join(' ')} still running ${EXIT_MS} ms after one ${signal}; stderr: ${stderr}`);
    assert.deepEqual(end, { code: 0, signal: null }, `wisp ${args.join(' ')} after ${signal}; stderr: ${stderr}`);
    const left = family.filter((p) => procState(p) !== undefined && procState(p) !== 'Z');
    assert.deepEqual(left, [], `processes of wisp ${args.join(' ')} still running after it exited (${Date.now() - sentAt} ms after ${signal})`);
  } finally {
    for (const p of [child.pid!, ...family]) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
}

const sockets: net.Socket[] = [];
after(() => {
  for (const s of sockets) s.destroy();
});

/** A client that sends a request head and a first byte of its body, then nothing (kept open). */
async function stuckClient(base: string): Promise<void> {
  const url = new URL(base);
  const socket = net.connect(Number(url.port), url.hostname);
  sockets.push(socket);
  socket.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('error', reject);
  });
  socket.write('POST /api/v1/query HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{');
  // Long enough for the server to have the head and be waiting for the body.
  await new Promise((r) => setTimeout(r, 200));
}

const servesEngine = async (child: ChildProcess): Promise<string> => (await waitForLine(child, /^wisp engine listening on (http:\/\/\S+)$/, 30_000))[1]!;

// No engine answers on that port: the broker serves its API (and reports the engine down) anyway.
const BROKER_ARGS = ['broker', '--listen', '127.0.0.1:0', '--engines', 'http://127.0.0.1:9'];
const servesBroker = async (child: ChildProcess): Promise<string> => (await waitForLine(child, /^wisp broker: API on (http:\/\/\S+) /, 30_000))[1]!;

const servesDemo = async (child: ChildProcess): Promise<string> => {
  const url = (await waitForLine(child, /engine API on (http:\/\/\S+) /, 60_000))[1]!;
  const ready = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(5000) });
  assert.equal(ready.status, 200);
  assert.equal(descendants(child.pid!).length, 4, 'catalog, cart, frontend and the load generator run');
  return url;
};

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  test(`wisp demo serving: one ${signal} stops it and its workload`, () => stopsCleanly(['demo', '--listen', '127.0.0.1:0', '--rps', '20'], signal, servesDemo));

  test(`wisp tail: one ${signal} stops it`, () =>
    stopsCleanly(['tail'], signal, async (child) => {
      await waitForLine(child, /^time\s+pid\s+comm/, 30_000);
    }));

  test(`wisp engine: one ${signal} stops it`, () => stopsCleanly(['engine', '--listen', '127.0.0.1:0'], signal, servesEngine));

  test(`wisp broker: one ${signal} stops it`, () => stopsCleanly(BROKER_ARGS, signal, servesBroker));
}

test('wisp engine with a client stuck mid-request: one SIGTERM stops it (the connection does not hold it)', () =>
  stopsCleanly(['engine', '--listen', '127.0.0.1:0'], 'SIGTERM', async (child) => stuckClient(await servesEngine(child))));

test('wisp broker with a client stuck mid-request: one SIGTERM stops it (the connection does not hold it)', () =>
  stopsCleanly(BROKER_ARGS, 'SIGTERM', async (child) => stuckClient(await servesBroker(child))));

test('wisp demo with a client stuck mid-request: one SIGINT stops it', () =>
  stopsCleanly(['demo', '--listen', '127.0.0.1:0', '--rps', '20'], 'SIGINT', async (child) => stuckClient(await servesDemo(child))));

test('wisp demo with --duration pending: one SIGTERM stops it (the timer does not hold it)', () =>
  stopsCleanly(['demo', '--listen', '127.0.0.1:0', '--rps', '20', '--duration', '600'], 'SIGTERM', servesDemo));

test('wisp demo still starting: one SIGTERM stops it and the workload started so far', () =>
  stopsCleanly(['demo', '--listen', '127.0.0.1:0', '--rps', '20'], 'SIGTERM', async (child) => {
    // The first workload process exists, the demo is waiting for it to listen (until then
    // bin/wisp's own subshells may be there: they are not what is looked for).
    const workload = (p: number): boolean => {
      try {
        return /workload\.js|^demo-/.test(readFileSync(`/proc/${p}/cmdline`, 'utf8'));
      } catch {
        return false;
      }
    };
    const deadline = Date.now() + 60_000;
    while (!descendants(child.pid!).some(workload)) {
      assert.ok(Date.now() < deadline && child.exitCode === null, 'the demo started its first workload process');
      await new Promise((r) => setTimeout(r, 5));
    }
  }));

test('wisp demo: a second SIGTERM while it stops exits at once (143), its workload killed', async () => {
  const child = spawn(wisp, ['demo', '--listen', '127.0.0.1:0', '--rps', '20'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let family: number[] = [];
  try {
    // The stuck client keeps the stop waiting (for the grace period of requests in flight).
    await stuckClient(await servesDemo(child));
    family = descendants(child.pid!);
    child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
    child.kill('SIGTERM');
    const end = await exited(child, EXIT_MS);
    assert.deepEqual(end, { code: 143, signal: null });
    assert.deepEqual(family.filter((p) => procState(p) !== undefined && procState(p) !== 'Z'), [], 'the workload is gone');
  } finally {
    for (const p of [child.pid!, ...family]) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
});
