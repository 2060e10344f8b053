/**
 * End to end: streamed queries (`stream: true`) on a real `wisp engine` capturing real loopback
 * traffic. Requests are sent by a load client in a child process to a Node server; the stream
 * must deliver each of them exactly once and soon after it was captured, resume from a cursor
 * without loss or duplicate, and hold a paused reader to a bounded buffer with a drop count.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { run, wispEngine, type Peer } from '../support/peers.js';
import { bodyServer, openStream, type StreamReader } from '../support/stream.js';

const client = fileURLToPath(new URL('../support/client.js', import.meta.url));
let engine: Peer & { url: string };
let server: Peer;

before(async () => {
  // Bodies kept up to 8 KiB make each streamed row about 9 kB: a paused reader's rows add up fast.
  engine = await wispEngine(['--body-bytes', '8192']);
  server = await bodyServer(8000);
});

after(async () => {
  await server.stop();
  await engine.stop();
});

/** The server side of each exchange with a path under `prefix`, as a stream. */
function script(prefix: string, columns = "'time_', 'req_path'"): string {
  return `import px
df = px.DataFrame(table='http_events', start_time='-30s')
df = df[df.trace_role == 2 and df.local_port == ${server.port}]
df = df[px.contains(df.req_path, '${prefix}')]
px.display(df[[${columns}]], 'events')
`;
}

async function send(prefix: string, n: number, extra: readonly string[] = []): Promise<void> {
  const r = await run(process.execPath, [client, '--url', `http://127.0.0.1:${server.port}`, '--n', String(n), '--concurrency', '4', '--prefix', prefix, ...extra]);
  assert.equal(r.code, 0, r.stderr);
}

function paths(s: StreamReader): string[] {
  return s.rows('events').map((r) => String(r.row['req_path']));
}

const isLive = (s: StreamReader) => (): boolean => s.lines.some((l) => l.line.t === 'live');

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m![1]) / 1024;
}

test('every request sent while a stream is open arrives exactly once, capture to client p99 <= 1 s', async () => {
  const s = await openStream(engine.url, { script: script('/once/'), stream: true });
  assert.equal(s.status, 200);
  await s.until(isLive(s), 10_000, 'the live line');
  const n = 400;
  await send('/once/', n);
  await s.until(() => paths(s).length >= n, 10_000, `${n} rows`);
  // Rows that would come late or twice would show up here.
  await new Promise((r) => setTimeout(r, 500));
  s.close();
  const got = paths(s).sort();
  assert.deepEqual(got, Array.from({ length: n }, (_, i) => `/once/${i}`).sort());
  // time_ is when the response completed, in wall-clock ns; atMs when its line was parsed here.
  const lags = s.rows('events').map((r) => r.atMs - Number(BigInt(String(r.row['time_'])) / 1_000_000n)).sort((a, b) => a - b);
  const p99 = lags[Math.ceil(lags.length * 0.99) - 1]!;
  process.stdout.write(`# capture → client: p50 ${lags[Math.floor(lags.length / 2)]} ms, p99 ${p99} ms, max ${lags[lags.length - 1]} ms over ${lags.length} rows\n`);
  assert.ok(p99 <= 1000, `p99 ${p99} ms`);
  // Every batch carries a cursor.
  assert.ok(s.lines.filter((l) => l.line.t === 'batch').every((l) => typeof l.line.cursor === 'string'));
});

test('a stream resumed with the cursor of its last batch misses nothing and repeats nothing', async () => {
  const a = await openStream(engine.url, { script: script('/resume/'), stream: true });
  await a.until(isLive(a), 10_000, 'the live line');
  await send('/resume/a', 100);
  await a.until(() => paths(a).length >= 100, 10_000, '100 rows');
  const batches = a.lines.filter((l) => l.line.t === 'batch');
  const cursor = batches[batches.length - 1]!.line.cursor!;
  a.close();
  // Sent while no stream is open: the resumed stream must catch up on them from the store.
  await send('/resume/b', 100);
  const b = await openStream(engine.url, { script: script('/resume/'), stream: true, cursor });
  assert.equal(b.status, 200);
  await b.until(isLive(b), 10_000, 'the live line');
  await send('/resume/c', 100);
  await b.until(() => paths(b).length >= 200, 10_000, '200 rows');
  await new Promise((r) => setTimeout(r, 500));
  b.close();
  const all = [...paths(a), ...paths(b)].sort();
  const want = ['a', 'b', 'c'].flatMap((k) => Array.from({ length: 100 }, (_, i) => `/resume/${k}${i}`)).sort();
  assert.deepEqual(all, want);
  assert.ok(paths(b).every((p) => !p.startsWith('/resume/a')), 'the resumed stream repeated rows before its cursor');
});

test('a paused reader gets its drops counted and the engine memory stays bounded; one that stays behind is disconnected', async () => {
  const wide = "'time_', 'req_path', 'req_headers', 'resp_headers', 'req_body', 'resp_body'";
  const paused = await openStream(engine.url, { script: script('/slow/', wide), stream: true });
  const stuck = await openStream(engine.url, { script: script('/slow/', wide), stream: true });
  await paused.until(isLive(paused), 10_000, 'the live line');
  await stuck.until(isLive(stuck), 10_000, 'the live line');
  paused.pause();
  stuck.pause();
  const before = rssMiB(engine.pid);
  let peak = before;
  const sampler = setInterval(() => (peak = Math.max(peak, rssMiB(engine.pid))), 100);
  const n = 12_000;
  const sent = Date.now();
  await send('/slow/', n, ['--body-bytes', '600']);
  clearInterval(sampler);
  process.stdout.write(`# ${n} requests in ${Date.now() - sent} ms; engine RSS ${before.toFixed(0)} → peak ${peak.toFixed(0)} MiB while two readers were paused\n`);
  paused.resume();
  const accounted = (): number =>
    paths(paused).length + paused.lines.reduce((a, l) => a + (l.line.t === 'warning' && l.line.warning?.code === 'STREAM_ROWS_DROPPED' ? l.line.rows! : 0), 0);
  await paused.until(() => accounted() >= n, 15_000, 'every row received or counted as dropped');
  const dropped = n - paths(paused).length;
  process.stdout.write(`# the paused reader received ${paths(paused).length} rows, ${dropped} counted as dropped\n`);
  assert.ok(dropped > 0, 'the paused reader was sent a drop count');
  assert.equal(accounted(), n, 'rows received plus rows counted as dropped are the rows sent');
  assert.equal(new Set(paths(paused)).size, paths(paused).length, 'no row twice');
  // Each row's line carries 8.6 kB of bodies: the dropped rows alone would take over 40 MB as
  // lines (twice that as JS strings), for each of the two readers.
  assert.ok(dropped * 8600 > 40e6, `only ${dropped} rows dropped: the test did not outrun the buffer`);
  assert.ok(peak - before < 64, `engine RSS grew by ${(peak - before).toFixed(0)} MiB`);
  // The reader that does not read for longer than 10 s after its rows were dropped is cut off:
  // when it reads again it finds the rest of what was in flight, then the end, though a stream
  // never ends by itself.
  await new Promise((r) => setTimeout(r, 12_000 - (Date.now() - sent)));
  stuck.resume();
  await stuck.ended;
  paused.close();
});

test('streams are limited per token; bad cursors and scripts that cannot stream are refused before the stream starts', async () => {
  const open: StreamReader[] = [];
  for (let i = 0; i < 8; i++) {
    const s = await openStream(engine.url, { script: script('/limit/'), stream: true });
    assert.equal(s.status, 200);
    open.push(s);
  }
  const ninth = await openStream(engine.url, { script: script('/limit/'), stream: true });
  assert.equal(ninth.status, 429);
  await ninth.ended;
  assert.equal(ninth.lines[0]!.line.error?.code, 'TOO_MANY_STREAMS');
  for (const s of open) s.close();
  await Promise.all(open.map((s) => s.ended));
  // Closed streams give their places back.
  await new Promise((r) => setTimeout(r, 300));
  const again = await openStream(engine.url, { script: script('/limit/'), stream: true });
  assert.equal(again.status, 200);
  again.close();

  const badCursor = await openStream(engine.url, { script: script('/limit/'), stream: true, cursor: 'not-a-cursor' });
  assert.equal(badCursor.status, 400);
  await badCursor.ended;
  assert.equal(badCursor.lines[0]!.line.error?.code, 'BAD_CURSOR');
  const agg = await openStream(engine.url, {
    script: "import px\ndf = px.DataFrame(table='http_events')\npx.display(df.groupby('req_path').agg(n=('latency', px.count)))\n",
    stream: true,
  });
  assert.equal(agg.status, 400);
  await agg.ended;
  assert.equal(agg.lines[0]!.line.error?.code, 'PXL_STREAM_UNSUPPORTED');
  // df.stream() sent as an ordinary query answers the stored rows, and says so.
  const plain = await fetch(`${engine.url}/api/v1/query`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ script: "import px\ndf = px.DataFrame(table='http_events', start_time='-5s').stream()\npx.display(df[['time_']])\n" }),
  });
  assert.equal(plain.status, 200);
  assert.ok(((await plain.json()) as { warnings: { code: string }[] }).warnings.some((w) => w.code === 'STREAM_IGNORED'));
});

test('a windowed aggregate streams each px.bin window once, when it closes, with the exact count', async () => {
  const s = await openStream(engine.url, {
    script: `import px
df = px.DataFrame(table='http_events', start_time='-1s')
df = df[df.trace_role == 2 and df.local_port == ${server.port}]
df = df[px.contains(df.req_path, '/win/')]
df.timestamp = px.bin(df.time_, px.DurationNanos(1000 * 1000 * 1000))
px.display(df.groupby('timestamp').agg(n=('latency', px.count)), 'per_second')
`,
    stream: true,
  });
  await s.until(isLive(s), 10_000, 'the live line');
  const bursts = [17, 0, 33];
  const first = Math.ceil(Date.now() / 1000) * 1000 + 1000;
  for (let i = 0; i < bursts.length; i++) {
    await new Promise((r) => setTimeout(r, Math.max(0, first + i * 1000 + 200 - Date.now())));
    if (bursts[i]! > 0) await send(`/win/${i}/`, bursts[i]!);
    assert.ok(Date.now() < first + i * 1000 + 1000, `burst ${i} spilled into the next second`);
  }
  await s.until(() => s.rows('per_second').length >= 2, 10_000, 'two closed windows');
  await new Promise((r) => setTimeout(r, 1500));
  s.close();
  const got = s.rows('per_second').map((r) => [Number(BigInt(String(r.row['timestamp'])) / 1_000_000n), Number(r.row['n'])]);
  assert.deepEqual(got, [
    [first, 17],
    [first + 2000, 33],
  ]);
});
