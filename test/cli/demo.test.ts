/**
 * `wisp demo` (what `make run` starts) on a plain host: each demo service runs in its own
 * systemd-style cgroup, so the terminal dashboard — ordinary PxL grouping on df.ctx['service']
 * — shows per-service numbers, and any script filtering on ctx['service'] finds the services.
 * The numbers are checked against the load generator's own requests, captured on its side.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { QueryResponse } from '../../src/engine/api/contract.js';
import { cgroup2Mount } from '../../src/engine/capture/cgroup.js';
import { rowsOf } from '../pxl-reference/duck.js';
import { waitForLine } from '../support/peers.js';

const wisp = fileURLToPath(new URL('../../../bin/wisp', import.meta.url));

async function query(url: string, script: string): Promise<QueryResponse> {
  const res = await fetch(`${url}/api/v1/query`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ script }) });
  const body = (await res.json()) as QueryResponse;
  assert.equal(res.status, 200, JSON.stringify(body));
  return body;
}

test('wisp demo: each service in its own cgroup (a killed demo\'s cleaned up); the dashboard and ctx[\'service\'] scripts show them', { timeout: 120_000 }, async () => {
  // What a demo killed with SIGKILL leaves: its slice, under a pid that is gone.
  const stale = join(cgroup2Mount()!, `wisp-demo-${spawnSync('true').pid}.slice`);
  mkdirSync(join(stale, 'cart.service'), { recursive: true });
  const child = spawn(wisp, ['demo', '--listen', '127.0.0.1:0', '--rps', '40'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const slice = join(cgroup2Mount()!, `wisp-demo-${child.pid}.slice`);
  try {
    const url = (await waitForLine(child, /engine API on (http:\/\/\S+) /, 60_000))[1]!;
    assert.equal(existsSync(stale), false, 'a gone demo\'s slice is removed');
    // The terminal dashboard: a line per service with requests in its last complete 5 s bin.
    const deadline = Date.now() + 60_000;
    const serving = (): string[] => {
      const last = out.slice(out.lastIndexOf('wisp demo — '));
      return ['cart', 'catalog', 'frontend'].filter((s) => Number(new RegExp(`^${s} +([0-9.]+) `, 'm').exec(last)?.[1] ?? 0) > 0);
    };
    while (serving().length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual(serving(), ['cart', 'catalog', 'frontend'], out.slice(-2000));
    assert.match(out, /^service +req\/s +errors +p50 ms/m);

    // Each workload process is in <slice>/<service>.service.
    const units = readdirSync(slice).filter((d) => d.endsWith('.service')).sort();
    assert.deepEqual(units, ['cart.service', 'catalog.service', 'frontend.service', 'loadgen.service']);
    for (const u of units) {
      const pids = readFileSync(join(slice, u, 'cgroup.procs'), 'utf8').trim().split('\n');
      assert.equal(pids.length, 1, u);
      const ppid = Number(/^\d+ \(.*\) \S (\d+)/s.exec(readFileSync(`/proc/${pids[0]}/stat`, 'utf8'))![1]);
      assert.equal(ppid, child.pid, `${u} holds a process the demo started`);
    }

    // Ordinary PxL on ctx['service']: what the frontend served in a closed window equals what
    // the load generator sent it (both sides are captured), give or take the edges.
    const endNs = (BigInt(Date.now()) - 2000n) * 1_000_000n;
    const startNs = endNs - 10_000_000_000n;
    const body = await query(
      url,
      `import px
df = px.DataFrame(table='http_events', start_time=${startNs}, end_time=${endNs})
df.service = df.ctx['service']
df = df[df.service == 'frontend' and df.trace_role == 2 or df.service == 'loadgen' and df.trace_role == 1]
df = df.groupby('service').agg(requests=('latency', px.count))
px.display(df)`,
    );
    const counts = Object.fromEntries(rowsOf(body).map(([s, n]) => [String(s), Number(n)]));
    assert.ok(counts['frontend']! > 0, JSON.stringify(counts));
    assert.ok(Math.abs(counts['frontend']! - counts['loadgen']!) <= 4, JSON.stringify(counts));
  } finally {
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
  }
  assert.equal(existsSync(slice), false, 'the demo removed its cgroups');
});
