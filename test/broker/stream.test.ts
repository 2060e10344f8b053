/**
 * Streams through the broker over two real engines, each scoped to its own cgroup (its "node")
 * in which a real HTTP server and load client run. The broker follows its engine discovery:
 * an engine that joins is streamed from its oldest stored row, an engine killed mid-stream
 * gives a warning line while the stream goes on with the other, and a stream resumed with the
 * broker's cursor (one cursor per engine inside) repeats nothing. Every request arrives exactly
 * once. A paused reader through the broker gets its drops counted while the broker's memory
 * stays bounded. Needs root (BPF and cgroup v2).
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import vm from 'node:vm';
import type { EngineDiscovery } from '../../src/engine/broker/engines.js';
import { startBroker } from '../../src/engine/cli/broker.js';
import { makeCgroup, PATH_SERVER, startIn, type TestCgroup } from '../capture-kernel/cgroups.js';
import type { Child } from '../capture-kernel/helpers.js';
import { waitForLine } from '../support/peers.js';
import { openStream, type StreamReader } from '../support/stream.js';

if (process.getuid?.() !== 0) throw new Error('test/broker/stream.test.ts needs root (BPF and cgroup v2): run it as root, as CI does');

const WISP = fileURLToPath(new URL('../../../bin/wisp', import.meta.url));
const CLIENT = fileURLToPath(new URL('../support/client.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'wisp-broker-stream-'));
let parent: TestCgroup;
const nodes: { name: string; cgroup: TestCgroup; engine: ChildProcess; url: string; server: Child }[] = [];
const children: Child[] = [];
/** Discovery the test changes: what the broker streams from. */
let listed: string[] = [];
const discovery: EngineDiscovery = { list: () => listed, describe: () => `${listed.length} engines (test)`, close: async () => {} };
let broker: Awaited<ReturnType<typeof startBroker>>;

before(async () => {
  parent = makeCgroup('wisp-test-stream');
  const serverFile = join(dir, 'server.js');
  writeFileSync(serverFile, PATH_SERVER);
  for (const name of ['a', 'b']) {
    const cgroup = parent.sub(name);
    // Bodies kept up to 8 KiB: a paused reader's rows add up fast (the last test).
    const engine = spawn(WISP, ['engine', '--listen', '127.0.0.1:0', '--cgroup', cgroup.path, '--body-bytes', '8192'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const url = (await waitForLine(engine, /listening on (http:\/\/\S+)/, 30_000))[1]!;
    const server = await startIn(cgroup.path, process.execPath, [serverFile]);
    children.push(server);
    nodes.push({ name, cgroup, engine, url, server });
  }
  broker = await startBroker({ listen: '127.0.0.1:0', engines: discovery });
});

after(async () => {
  await broker?.stop();
  for (const n of nodes) n.engine.kill('SIGKILL');
  for (const c of children) c.proc.kill('SIGKILL');
  await Promise.all(children.map((c) => c.exit));
  await parent?.remove();
  rmSync(dir, { recursive: true, force: true });
});

/** `n` requests from a client inside node `i`'s cgroup to its server, paths `<prefix><k>`. */
async function send(i: number, prefix: string, n: number, extra: readonly string[] = []): Promise<void> {
  const node = nodes[i]!;
  const c = await startIn(node.cgroup.path, process.execPath, [CLIENT, '--url', `http://127.0.0.1:${node.server.firstLine.trim()}`, '--n', String(n), '--concurrency', '4', '--prefix', prefix, ...extra]);
  const [code] = await c.exit;
  assert.equal(code, 0, c.stderr());
}

const SCRIPT = `import px
df = px.DataFrame(table='http_events', start_time='-60s')
df = df[df.trace_role == 2 and px.contains(df.req_path, '/s/')]
px.display(df[['time_', 'req_path']], 'events')
`;

function paths(s: StreamReader): string[] {
  return s.rows('events').map((r) => String(r.row['req_path']));
}

const range = (prefix: string, n: number): string[] => Array.from({ length: n }, (_, k) => `${prefix}${k}`);

test('a stream through the broker fans in every engine: joins, a kill mid-stream, resume by cursor, each request once', async () => {
  listed = [nodes[0]!.url];
  await send(1, '/s/b-before/', 40);
  const s = await openStream(broker.url, { script: SCRIPT, stream: true });
  assert.equal(s.status, 200);
  await s.until(() => s.lines.some((l) => l.line.t === 'live'), 10_000, 'the live line');
  const sent = Date.now();
  await send(0, '/s/a1/', 100);
  await s.until(() => paths(s).length >= 100, 10_000, "node a's 100 rows");
  const lags = s.rows('events').map((r) => r.atMs - Number(BigInt(String(r.row['time_'])) / 1_000_000n)).sort((x, y) => x - y);
  const p99 = lags[Math.ceil(lags.length * 0.99) - 1]!;
  process.stdout.write(`# through the broker, capture → client p99 ${p99} ms over ${lags.length} rows (sent from ${sent})\n`);
  assert.ok(p99 <= 1000, `p99 ${p99} ms`);
  assert.ok(paths(s).every((p) => p.startsWith('/s/a1/')), 'an engine discovery does not list is not streamed');

  // Engine b joins: its stored rows come first, then its new ones.
  listed = [nodes[0]!.url, nodes[1]!.url];
  await s.until(() => paths(s).length >= 140, 10_000, "node b's stored rows");
  await send(1, '/s/b1/', 60);
  await s.until(() => paths(s).length >= 200, 10_000, "node b's new rows");

  // Engine a is killed mid-stream: a warning line, and b's rows keep coming.
  nodes[0]!.engine.kill('SIGKILL');
  await s.until(() => s.lines.some((l) => l.line.warning?.code === 'BROKER_ENGINE_FAILED'), 10_000, 'the warning for the killed engine');
  await send(1, '/s/b2/', 50);
  await s.until(() => paths(s).length >= 250, 10_000, "node b's rows after the kill");
  await new Promise((r) => setTimeout(r, 500));
  const batches = s.lines.filter((l) => l.line.t === 'batch');
  const cursor = batches[batches.length - 1]!.line.cursor!;
  s.close();
  assert.deepEqual(paths(s).sort(), [...range('/s/a1/', 100), ...range('/s/b-before/', 40), ...range('/s/b1/', 60), ...range('/s/b2/', 50)].sort());

  // Resumed with the broker's cursor (b's own cursor inside): only what came after.
  listed = [nodes[1]!.url];
  await send(1, '/s/b3/', 30);
  const r = await openStream(broker.url, { script: SCRIPT, stream: true, cursor });
  await r.until(() => paths(r).length >= 30, 10_000, 'the rows sent while disconnected');
  await new Promise((res) => setTimeout(res, 1000));
  r.close();
  assert.deepEqual(paths(r).sort(), range('/s/b3/', 30).sort());
});

test('a paused reader through the broker gets its drops counted, and the broker keeps a bounded amount of memory', async () => {
  // Engine a was killed above: b alone, through the broker (which runs in this process).
  listed = [nodes[1]!.url];
  const wide = `import px
df = px.DataFrame(table='http_events', start_time='-5s')
df = df[df.trace_role == 2 and px.contains(df.req_path, '/slow/')]
px.display(df[['time_', 'req_path', 'req_headers', 'req_body']], 'events')
`;
  const paused = await openStream(broker.url, { script: wide, stream: true });
  await paused.until(() => paused.lines.some((l) => l.line.t === 'live'), 10_000, 'the live line');
  paused.pause();
  // The broker runs in this process, whose RSS also holds V8's garbage (parsed lines not yet
  // collected): what the broker keeps is the heap left after a collection, sampled throughout.
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  const live = (): number => {
    gc();
    return process.memoryUsage().heapUsed / 2 ** 20;
  };
  const rss = (): number => process.memoryUsage().rss / 2 ** 20;
  const [before, rssBefore] = [live(), rss()];
  let [peak, rssPeak] = [before, rssBefore];
  const sampler = setInterval(() => {
    rssPeak = Math.max(rssPeak, rss());
    peak = Math.max(peak, live());
  }, 250);
  const n = 10_000;
  const sent = Date.now();
  await send(1, '/slow/', n, ['--body-bytes', '8000']);
  await new Promise((r) => setTimeout(r, 2000));
  clearInterval(sampler);
  process.stdout.write(
    `# ${n} requests in ${Date.now() - sent} ms while the reader was paused; the broker's heap after collection ${before.toFixed(0)} → peak ${peak.toFixed(0)} MiB (process RSS ${rssBefore.toFixed(0)} → ${rssPeak.toFixed(0)} MiB with garbage)\n`,
  );
  paused.resume();
  const received = (): number => paused.rows('events').length;
  const dropped = (): number => paused.lines.reduce((a, l) => a + (l.line.t === 'warning' && l.line.warning?.code === 'STREAM_ROWS_DROPPED' ? l.line.rows! : 0), 0);
  await paused.until(() => received() + dropped() >= n, 20_000, 'every row received or counted as dropped').catch((e: Error) => {
    throw new Error(`${e.message}: ${received()} received, ${dropped()} counted as dropped of ${n}`);
  });
  process.stdout.write(`# the paused reader received ${received()} rows, ${dropped()} counted as dropped\n`);
  assert.ok(dropped() > 0, 'the paused reader was sent a drop count');
  assert.equal(received() + dropped(), n, 'rows received plus rows counted as dropped are the rows sent');
  const got = paused.rows('events').map((r) => String(r.row['req_path']));
  assert.equal(new Set(got).size, got.length, 'no row twice');
  // Each row's line carries over 8 kB of body: the dropped rows alone are over 40 MB of lines.
  assert.ok(dropped() * 8000 > 40e6, `only ${dropped()} rows dropped: the test did not outrun the buffers`);
  assert.ok(peak - before < 48, `the broker kept ${(peak - before).toFixed(0)} MiB more while its reader was paused`);
  paused.close();
});
