/**
 * Near-unique string columns (here `req_path`, and the bodies) are stored plainly, one
 * dictionary entry per row, once a tail has seen mostly new values; repeats after that switch
 * get entries of their own. Queries must not notice: grouping and filtering on such a column
 * through the real engine and API give exact counts.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { makeCgroup, startIn } from '../capture-kernel/cgroups.js';
import type { Child } from '../capture-kernel/helpers.js';
import { run, waitForLine } from '../support/peers.js';

const wisp = fileURLToPath(new URL('../../../bin/wisp', import.meta.url));
const client = fileURLToPath(new URL('../support/client.js', import.meta.url));

interface Answer { tables: Array<{ data: string[][] }> }

async function query(url: string, script: string): Promise<string[][]> {
  const res = await fetch(`${url}/api/v1/query`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ script }) });
  const text = await res.text();
  assert.equal(res.status, 200, text);
  return (JSON.parse(text) as Answer).tables[0]!.data;
}

test('group-by and filters on a column stored plainly count exactly', async () => {
  const cg = makeCgroup('wisp-strings');
  const engine = spawn(wisp, ['engine', '--listen', '127.0.0.1:0', '--cgroup', cg.path], { stdio: ['ignore', 'pipe', 'pipe'] });
  let server: Child | undefined;
  after(async () => {
    server?.proc.kill();
    await server?.exit;
    if (engine.exitCode === null && engine.signalCode === null) {
      const stopped = new Promise((r) => engine.once('exit', r));
      engine.kill('SIGTERM');
      await stopped;
    }
    await cg.remove();
  });
  const url = (await waitForLine(engine, /listening on (http:\/\/\S+)/, 20_000))[1]!;
  server = await startIn(cg.path, process.execPath, ['-e', `
    const s = require('http').createServer((req, res) => res.end('body of ' + req.url));
    s.listen(0, '127.0.0.1', () => console.log(s.address().port));`]);
  const base = `http://127.0.0.1:${server.firstLine}`;
  // 700 unique paths first (the probe sees only new values), then 3 paths 150 times each.
  const r = await run(process.execPath, [client, '--url', base, '--n', '700', '--concurrency', '4', '--prefix', '/u/']);
  assert.equal(r.code, 0, r.stderr);
  const same = ['/same/a', '/same/b', '/same/c'].flatMap((p) => Array.from({ length: 150 }, () => ['-o', '/dev/null', base + p]).flat());
  const c = await run('curl', ['-sS', '--fail', ...same]);
  assert.equal(c.code, 0, c.stderr);
  const total = 700 + 450;
  const count = "import px\ndf = px.DataFrame(table='http_events')\ndf = df[df.trace_role == 2]\ndf = df.agg(n=('latency', px.count))\npx.display(df)\n";
  const deadline = Date.now() + 20_000;
  while (Number((await query(url, count))[0]![0]) < total && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  assert.equal(Number((await query(url, count))[0]![0]), total);

  const groups = await query(url, `import px
df = px.DataFrame(table='http_events')
df = df[df.trace_role == 2]
df = df.groupby('req_path').agg(n=('latency', px.count))
px.display(df)
`);
  const byPath = new Map(groups[0]!.map((p, i) => [p, Number(groups[1]![i])]));
  assert.equal(byPath.size, 703);
  for (const p of ['/same/a', '/same/b', '/same/c']) assert.equal(byPath.get(p), 150, p);
  for (let i = 0; i < 700; i++) assert.equal(byPath.get(`/u/${i}`), 1, `/u/${i}`);
  const one = await query(url, "import px\ndf = px.DataFrame(table='http_events')\ndf = df[df.req_path == '/same/b']\ndf = df[df.trace_role == 2]\ndf = df.groupby('resp_body').agg(n=('latency', px.count))\npx.display(df)\n");
  assert.deepEqual(one, [['body of /same/b'], ['150']]);
});
