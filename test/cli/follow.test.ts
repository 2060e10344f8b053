/**
 * End to end: `wisp query --follow` and the typed client it is built on, against a real
 * `wisp engine` capturing loopback traffic. The CLI prints each request once as it is captured
 * (jsonl, csv); the client, whose connection is cut under it by a TCP relay, reconnects with its
 * cursor and still yields each request exactly once.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { rowsOf, WispClient } from '../../src/engine/api/client.js';
import { run, wispEngine, type Peer } from '../support/peers.js';
import { bodyServer } from '../support/stream.js';

const wisp = fileURLToPath(new URL('../../../bin/wisp', import.meta.url));
const client = fileURLToPath(new URL('../support/client.js', import.meta.url));
let engine: Peer & { url: string };
let server: Peer;

before(async () => {
  engine = await wispEngine();
  server = await bodyServer(2);
});

after(async () => {
  await server.stop();
  await engine.stop();
});

function script(prefix: string): string {
  return `import px
df = px.DataFrame(table='http_events', start_time='-30s')
df = df[df.trace_role == 2 and df.local_port == ${server.port}]
df = df[px.contains(df.req_path, '${prefix}')]
px.display(df[['time_', 'req_method', 'req_path']], 'events')
`;
}

async function send(prefix: string, n: number): Promise<void> {
  const r = await run(process.execPath, [client, '--url', `http://127.0.0.1:${server.port}`, '--n', String(n), '--concurrency', '4', '--prefix', prefix]);
  assert.equal(r.code, 0, r.stderr);
}

async function until(pred: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    assert.ok(Date.now() < end, `timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('wisp query --follow prints each request once as it is captured: jsonl rows keyed by column, csv with one header', async () => {
  const file = join(mkdtempSync(join(tmpdir(), 'wisp-follow-')), 'events.pxl');
  writeFileSync(file, script('/follow/'));
  const children = (['jsonl', 'csv'] as const).map((format) => {
    const child = spawn(wisp, ['query', '--url', engine.url, '--follow', '--format', format, file], { stdio: ['ignore', 'pipe', 'inherit'] });
    const lines: string[] = [];
    createInterface({ input: child.stdout }).on('line', (l) => lines.push(l));
    return { child, lines };
  });
  // The stream is open once the stored rows (none here) are out; give both a moment to connect.
  await new Promise((r) => setTimeout(r, 1500));
  await send('/follow/', 150);
  const [jsonl, csv] = children as [(typeof children)[0], (typeof children)[0]];
  await until(() => jsonl.lines.length >= 150 && csv.lines.length >= 151, 10_000, '150 rows from each');
  await new Promise((r) => setTimeout(r, 500));
  for (const c of children) c.child.kill('SIGTERM');
  const rows = jsonl.lines.map((l) => JSON.parse(l) as Record<string, string>);
  assert.deepEqual(Object.keys(rows[0]!), ['time_', 'req_method', 'req_path']);
  assert.deepEqual(rows.map((r) => r['req_path']).sort(), Array.from({ length: 150 }, (_, i) => `/follow/${i}`).sort());
  assert.match(rows[0]!['time_']!, /^\d{19}$/, 'TIME64NS as exact epoch ns');
  assert.equal(csv.lines[0], 'time_,req_method,req_path');
  assert.equal(csv.lines.filter((l) => l.startsWith('time_')).length, 1);
  assert.deepEqual(csv.lines.slice(1).map((l) => l.split(',')[2]).sort(), Array.from({ length: 150 }, (_, i) => `/follow/${i}`).sort());
});

test('the client resumes with its cursor when its connection is cut: every request exactly once', async () => {
  // A TCP relay between the client and the engine whose connections the test can cut.
  const sockets = new Set<net.Socket>();
  const relay = net.createServer((down) => {
    const up = net.connect(engine.port, '127.0.0.1');
    for (const s of [down, up]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => s.destroy());
    }
    down.pipe(up).pipe(down);
  });
  await new Promise<void>((r) => relay.listen(0, '127.0.0.1', r));
  const api = new WispClient({ url: `http://127.0.0.1:${(relay.address() as net.AddressInfo).port}` });
  const controller = new AbortController();
  const paths: string[] = [];
  let reconnects = 0;
  let live = false;
  const reading = (async () => {
    for await (const line of api.stream({ script: script('/cut/') }, { signal: controller.signal, retryMs: 200 })) {
      if (line.t === 'live') live = true;
      if (line.t === 'reconnect') reconnects++;
      if (line.t === 'batch') for (const t of line.tables) for (const r of rowsOf(t)) paths.push(String(r['req_path']));
    }
  })();
  await until(() => live, 10_000, 'the live line');
  await send('/cut/a', 100);
  await until(() => paths.length >= 100, 10_000, '100 rows');
  for (const s of sockets) s.destroy();
  // Sent while the client is disconnected or reconnecting, and after.
  await send('/cut/b', 100);
  await until(() => reconnects > 0 && paths.length >= 200, 15_000, '200 rows after a reconnect');
  await send('/cut/c', 50);
  await until(() => paths.length >= 250, 10_000, '250 rows');
  await new Promise((r) => setTimeout(r, 500));
  controller.abort();
  await reading;
  relay.close();
  for (const s of sockets) s.destroy();
  const want = ['a', 'b'].flatMap((k) => Array.from({ length: 100 }, (_, i) => `/cut/${k}${i}`)).concat(Array.from({ length: 50 }, (_, i) => `/cut/c${i}`));
  assert.deepEqual(paths.sort(), want.sort());
  // query() answers tables.
  const answer = await new WispClient({ url: engine.url }).query({ script: script('/cut/') });
  assert.equal(answer.tables[0]!.rowCount, 250);
});
