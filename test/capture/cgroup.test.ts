/**
 * `wisp engine --cgroup PATH` as a process: with two servers, one inside the cgroup and one
 * outside, http_events holds exactly the inside server's requests (and nothing of the client,
 * which runs outside too). A path that is not a cgroup v2 directory is refused by name.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeCgroup, PATH_SERVER, startIn } from '../capture-kernel/cgroups.js';
import { run, start, type Child } from '../capture-kernel/helpers.js';
import { waitForLine } from '../support/peers.js';

const wisp = fileURLToPath(new URL('../../../bin/wisp', import.meta.url));

interface Answer { tables: Array<{ columns: Array<{ name: string }>; data: unknown[][] }> }

/** Rows of http_events as objects keyed by column, through the engine's query API. */
async function rows(url: string): Promise<Array<Record<string, unknown>>> {
  const script = "import px\ndf = px.DataFrame(table='http_events', select=['pid', 'trace_role', 'req_path', 'resp_status'])\npx.display(df)\n";
  const res = await fetch(`${url}/api/v1/query`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ script }) });
  const text = await res.text();
  assert.equal(res.status, 200, text);
  const t = (JSON.parse(text) as Answer).tables[0]!;
  const n = t.data[0]?.length ?? 0;
  return Array.from({ length: n }, (_, i) => Object.fromEntries(t.columns.map((c, j) => [c.name, t.data[j]![i]])));
}

test('wisp engine --cgroup captures exactly the requests of processes in that cgroup', async () => {
  const cg = makeCgroup('wisp-engine-scope');
  const engine = spawn(wisp, ['engine', '--listen', '127.0.0.1:0', '--cgroup', cg.path], { stdio: ['ignore', 'pipe', 'pipe'] });
  const children: Child[] = [];
  // One hook, in this order: the cgroup can only go once every process in it has exited.
  after(async () => {
    const exits = children.map((c) => { c.proc.kill(); return c.exit; });
    if (engine.exitCode === null && engine.signalCode === null) {
      const stopped = new Promise((r) => engine.once('exit', r));
      engine.kill('SIGTERM');
      await stopped;
    }
    await Promise.all(exits);
    await cg.remove();
  });
  const url = (await waitForLine(engine, /listening on (http:\/\/\S+)/, 20_000))[1]!;

  const inside = await startIn(cg.path, process.execPath, ['-e', PATH_SERVER]);
  children.push(inside);
  const outside = await start(process.execPath, ['-e', PATH_SERVER]);
  children.push(outside);
  const urls: string[] = [];
  for (let i = 0; i < 5; i++) urls.push(`http://127.0.0.1:${inside.firstLine}/in/${i}`, `http://127.0.0.1:${outside.firstLine}/out/${i}`);
  await run('curl', ['-sS', ...urls.flatMap((u) => ['-o', '/dev/null', u])]);

  const deadline = Date.now() + 15_000;
  let got = await rows(url);
  while (got.length < 5 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    got = await rows(url);
  }
  // Anything out of scope would have been stitched by now too; look once more after a pause.
  await new Promise((r) => setTimeout(r, 300));
  got = await rows(url);
  const seen = got.map((r) => `${String(r.pid)} ${String(r.trace_role)} ${String(r.req_path)} ${String(r.resp_status)}`).sort();
  const want = [0, 1, 2, 3, 4].map((i) => `${inside.pid} 2 /in/${i} 200`);
  assert.deepEqual(seen, want);
});

test('wisp engine --cgroup with a directory that is not cgroup v2: exits 1 naming the path', async () => {
  const plain = mkdtempSync(join(tmpdir(), 'wisp-not-a-cgroup-'));
  try {
    const child = spawn(wisp, ['engine', '--listen', '127.0.0.1:0', '--cgroup', plain], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    assert.equal(code, 1, stderr);
    assert.match(stderr, new RegExp(`${plain} is not a cgroup v2 directory; cgroup2 is mounted at /`));
    assert.doesNotMatch(stderr, /^\s+at /m, 'a message, not a stack trace');
  } finally {
    rmdirSync(plain);
  }
});
